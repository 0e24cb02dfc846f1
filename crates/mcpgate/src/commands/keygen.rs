//! `mcpgate keygen`: fresh keys, printed as environment variables.

use std::process::ExitCode;

use mcpgate_auth::{GrantSigningKey, SecretKey};

pub fn run() -> ExitCode {
    let signing = GrantSigningKey::generate();
    let text = format!(
        "# The API needs the signing key; proxies need only the verify key.\n\
         # API and proxies need the same secret key. Keep all but the verify key private.\n\
         MCPGATE_GRANT_SIGNING_KEY={}\nMCPGATE_GRANT_VERIFY_KEY={}\nMCPGATE_SECRET_KEY={}\n",
        signing.to_base64(),
        signing.verify_key().to_base64(),
        SecretKey::generate().to_base64(),
    );
    super::print_stdout(&text)
}
