"""Graph analysis: strongly connected components, loop-start check, topological order, sinks, reachability."""
