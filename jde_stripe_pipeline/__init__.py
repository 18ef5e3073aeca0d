"""jde-stripe-pipeline: JD Edwards EnterpriseOne → Stripe, one way, incrementally, on Dagster."""

__version__ = "0.1.0"
