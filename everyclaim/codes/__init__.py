"""Code sets: CARC, RARC, CAS groups, claim status, frequency, place of service, denial categories."""
