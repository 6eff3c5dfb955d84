"""Every endpoint answers; authentication, validation and errors behave per the contract."""
