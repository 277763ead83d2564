"""Spares and RMA: owns depot stock, spare requests, shipments, returns and vendor RMAs."""
