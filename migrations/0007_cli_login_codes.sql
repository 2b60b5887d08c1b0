-- 0007 CLI login codes: the one-time codes of the loopback login (`ajet-chat login`).
--
-- Owns: cli_login_codes.
--
-- Non-obvious choices:
-- * Only the code's SHA-256 is stored, like session tokens. The exchange DELETEs the row it
--   reads, so a code works once even when two exchanges race; expired rows are deleted by
--   the next code's insert (they live at most a minute, so the table stays tiny).
-- * state is the CLI's own random value, echoed back by the browser: the exchange must
--   present the same one, binding the code to the CLI that started the login.

CREATE TABLE cli_login_codes (
    code_hash  bytea       NOT NULL,
    user_id    uuid        NOT NULL
        CONSTRAINT cli_login_codes_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    state      text        NOT NULL,
    expires_at timestamptz NOT NULL,

    CONSTRAINT cli_login_codes_pkey PRIMARY KEY (code_hash),
    CONSTRAINT cli_login_codes_code_hash_length CHECK (octet_length(code_hash) = 32),
    CONSTRAINT cli_login_codes_state_length CHECK (char_length(state) BETWEEN 1 AND 200)
);
