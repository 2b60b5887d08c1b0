//! End-to-end tests of the `ajet-chat` binary against the whole stack (arriving next).
