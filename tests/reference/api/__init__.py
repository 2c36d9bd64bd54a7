# Test oracle package: a reconstruction of the Hermes WebUI server's `api`
# modules that the parity test runs. Not part of hermes-fsck.
