"""Read models of jurisdictions: detainer policy in force at a date, per county and courthouse."""
