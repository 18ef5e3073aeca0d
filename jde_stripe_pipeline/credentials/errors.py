"""What can go wrong with credentials, as a hierarchy a caller can act on.

Every message says what to do and never contains a secret value: a message may end up in a log, a
Dagster run's event log or a support ticket.
"""


class CredentialsError(Exception):
    """Base class: the CLI prints the message and exits non-zero, without a traceback."""


class CredentialsNotConfigured(CredentialsError):
    """Neither the environment nor the store holds the credentials asked for."""


class IncompleteEnvironment(CredentialsError):
    """Some, not all, of a group's environment variables are set (a source is used whole)."""


class InvalidCredentialValue(CredentialsError):
    """A value is malformed (a URL without a scheme, a publishable key where a secret key belongs...)."""


class MasterKeyError(CredentialsError):
    """Base class for problems with the master key that encrypts the store."""


class MasterKeyMissing(MasterKeyError):
    """No master key is configured, or the key file does not exist."""


class MasterKeyInvalid(MasterKeyError):
    """The master key is not a Fernet key, or two master key sources are set at once."""


class InsecureKeyFile(MasterKeyError):
    """The key file can be read by someone other than its owner (refused, as ssh refuses such keys)."""


class WrongMasterKey(MasterKeyError):
    """The master key does not open the store: a different key, or the store was re-keyed."""


class StoreUnreadable(CredentialsError):
    """The store file is not a credential store, or is damaged."""
