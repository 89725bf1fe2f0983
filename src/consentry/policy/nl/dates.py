"""The dates the nl pack's rules change on: Dutch calendar days, both inclusive."""

from __future__ import annotations

from datetime import date

#: Tw 11.7 opt-in for electronic messages to natural persons (spam ban) in force.
TW_OPT_IN = date(2004, 5, 19)
#: Opt-in extended to legal persons.
TW_LEGAL_PERSONS = date(2009, 10, 1)
#: GDPR applies.
GDPR = date(2018, 5, 25)
#: Opt-in for telemarketing to natural persons; Bel-me-niet Register closed (Stb. 2021, 103).
CALLS_OPT_IN = date(2021, 7, 1)
#: Customer exception for calls ends (except charities, lotteries, press publishers).
CALLS_NO_CUSTOMER_EXCEPTION = date(2026, 7, 1)
#: The Code voor het gebruik van Postfilter 2021 (the Postfilter mention on addressed
#: advertising). 1 April 2021 is the date DDMA and mail houses announced it in force
#: from; the Code's own commencement clause was not checked.
POSTFILTER_CODE_2021 = date(2021, 4, 1)


def day_before(d: date) -> date:
    return date.fromordinal(d.toordinal() - 1)
