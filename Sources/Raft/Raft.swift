// Raft module: see DESIGN.md section 2.
