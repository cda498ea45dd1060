"""Planning from the categories: visit frequency, workload against rep capacity, day tours, objectives per rep, a rep's territory (issue 14)."""
