"""The public pages: sign-up forms, confirmation, unsubscribe, preference centre."""
