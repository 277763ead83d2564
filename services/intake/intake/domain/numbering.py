"""Human case numbers: `<year>-<sequence>`, six digits at least, unique and increasing per year."""


def case_number(year: int, sequence: int) -> str:
    return f"{year}-{sequence:06d}"
