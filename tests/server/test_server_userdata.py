"""Saving, listing, moving and deleting workflows through /api/userdata; every path stays in the work directory."""

import os

import pytest
from conftest import run

WORKFLOW = b'{"version": 0.4, "nodes": [], "links": []}'


def test_save_list_get_move_delete(workdir, client_for):
    async def go():
        async with client_for(workdir) as client:
            url = "/api/userdata/workflows%2Fmy%20graph.json?overwrite=false&full_info=true"
            saved = await client.post(url, data=WORKFLOW)
            assert saved.status == 200
            info = await saved.json()
            again = await client.post(url, data=WORKFLOW)
            assert again.status == 409
            listing = await (await client.get("/api/userdata?dir=workflows&recurse=true&full_info=true")).json()
            body = await (await client.get("/api/userdata/workflows%2Fmy%20graph.json")).read()
            moved = await client.post("/api/userdata/workflows%2Fmy%20graph.json/move/workflows%2Fsub%2Fb.json")
            assert moved.status == 200
            split = await (await client.get("/api/userdata?dir=workflows&recurse=true&split=true")).json()
            deleted = await client.delete("/api/userdata/workflows%2Fsub%2Fb.json")
            gone = await client.get("/api/userdata/workflows%2Fsub%2Fb.json")
            return info, listing, body, await moved.json(), split, deleted.status, gone.status

    info, listing, body, moved, split, deleted, gone = run(go())
    assert info["path"] == "workflows/my graph.json" and info["size"] == len(WORKFLOW)
    assert isinstance(info["modified"], int)
    assert [e["path"] for e in listing if e["path"] == "my graph.json"] == ["my graph.json"]
    assert body == WORKFLOW
    assert moved == "workflows/sub/b.json"
    assert ["sub/b.json", "sub", "b.json"] in split
    assert (deleted, gone) == (204, 404)
    assert not (workdir / "workflows" / "sub" / "b.json").exists()


@pytest.mark.parametrize(
    "encoded",
    [
        "..%2Foutside.json",
        "workflows%2F..%2F..%2Foutside.json",
        "%2Fetc%2Fpasswd",
        "a%00b.json",
        "..",
        "workflows%5C..%5C..%5Coutside.json",
    ],
)
def test_traversal_is_rejected(workdir, client_for, encoded):
    async def go():
        async with client_for(workdir) as client:
            post = await client.post(f"/api/userdata/{encoded}", data=b"x")
            get = await client.get(f"/api/userdata/{encoded}")
            delete = await client.delete(f"/api/userdata/{encoded}")
            move = await client.post(f"/api/userdata/{encoded}/move/workflows%2Fok.json")
            move_to = await client.post(f"/api/userdata/comfy.settings.json/move/{encoded}")
            listing = await client.get(f"/api/userdata?dir={encoded}")
            return [post.status, get.status, delete.status, move.status, move_to.status, listing.status]

    statuses = run(go())
    # 403 from our check; a bare '..' is normalised away by the HTTP layer before routing (404/405): never a 2xx
    assert all(s == 403 for s in statuses) or (encoded == ".." and all(400 <= s < 500 for s in statuses)), statuses
    assert not (workdir.parent / "outside.json").exists()
    assert (workdir / "comfy.settings.json").is_file()


def test_symlink_escape_is_rejected(tmp_path, workdir, client_for):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("do not serve")

    async def go():
        async with client_for(workdir) as client:
            os.symlink(secret, workdir / "workflows" / "escape")
            get = await client.get("/api/userdata/workflows%2Fescape%2Fkey.txt")
            post = await client.post("/api/userdata/workflows%2Fescape%2Fnew.txt", data=b"x")
            listing = await (await client.get("/api/userdata?dir=workflows&recurse=true")).json()
            return get.status, post.status, listing

    get, post, listing = run(go())
    assert (get, post) == (403, 403)
    assert not any("key.txt" in p for p in listing)
    assert not (secret / "new.txt").exists()


def test_oversize_body_is_refused(workdir, client_for):
    async def go():
        async with client_for(workdir, max_body=1024) as client:
            small = await client.post("/api/userdata/workflows%2Fsmall.json", data=b'"' + b"x" * 998 + b'"')
            big = await client.post("/api/userdata/workflows%2Fbig.json", data=b"x" * 5000)
            prompt = await client.post("/api/prompt", data=b"{" + b" " * 5000 + b"}")
            return small.status, big.status, prompt.status

    assert run(go()) == (200, 413, 413)
    assert not (workdir / "workflows" / "big.json").exists()
