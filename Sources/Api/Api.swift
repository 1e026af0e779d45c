// Api module: see DESIGN.md section 5.
