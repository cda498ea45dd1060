"""Check before you change: preview of category moves, history of runs, backtest of last year's categories, suggested weights (issue 15)."""
