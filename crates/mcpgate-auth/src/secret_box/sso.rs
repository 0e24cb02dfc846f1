//! A tenant's single sign-on client secret, sealed under the credentials key and bound
//! to the tenant: copied onto another tenant's row, or read as another kind of secret,
//! it does not open.

use uuid::Uuid;

use super::purpose::CredentialsKey;
use crate::error::AuthError;

impl CredentialsKey {
    /// Seals the client secret mcpgate holds at the tenant's OpenID provider.
    pub fn seal_sso_client_secret(&self, tenant: Uuid, secret: &[u8]) -> Vec<u8> {
        self.derived.seal(secret, &associated_data(tenant))
    }

    /// Opens what [`CredentialsKey::seal_sso_client_secret`] sealed for this tenant.
    pub fn open_sso_client_secret(
        &self,
        tenant: Uuid,
        sealed: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        self.derived.open(sealed, &associated_data(tenant))
    }
}

fn associated_data(tenant: Uuid) -> Vec<u8> {
    format!("sso-client-secret:{tenant}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn a_client_secret_opens_only_for_its_tenant() {
        let key = CredentialsKey::new(&SecretKey::generate());
        let (tenant, other) = (Uuid::now_v7(), Uuid::now_v7());
        let sealed = key.seal_sso_client_secret(tenant, b"s3cret");
        assert_eq!(
            key.open_sso_client_secret(tenant, &sealed).unwrap(),
            b"s3cret"
        );
        assert!(key.open_sso_client_secret(other, &sealed).is_err());
        assert!(key.open_export_secret(tenant, &sealed).is_err());
    }
}
