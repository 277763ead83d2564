"""Dispatch: owns engineers, assignments, acknowledgements, visits and notifications."""
