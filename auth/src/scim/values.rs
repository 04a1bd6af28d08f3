//! SCIM values coerced to their attribute definitions.
