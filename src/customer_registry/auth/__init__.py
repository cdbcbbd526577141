"""Who is calling and what they may touch: tokens, credentials, the caller and its scope."""
