//! What the proxy knows about servers and grants, in memory.
//!
//! Entries load lazily from Postgres on first use (the only time a request touches
//! Postgres), are immutable once built and are replaced whole (`Arc` swap), so a request
//! holds a consistent snapshot without holding a lock. The change stream and a periodic
//! resync ([`sync`]) replace or drop them.

mod entry;
pub(crate) mod sync;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use mcpgate_auth::CredentialsKey;
use mcpgate_store::{GrantId, PgPool, ServerId, StoreError, TenantId};
use mcpgate_upstream::AddressPolicy;

pub(crate) use entry::{CredentialsProblem, GrantEntry, ServerEntry, ToolEntry};

/// The servers and grants loaded so far.
#[derive(Debug)]
pub(crate) struct Cache {
    db: PgPool,
    credentials: CredentialsKey,
    address_policy: AddressPolicy,
    servers: RwLock<HashMap<ServerId, Arc<ServerEntry>>>,
    grants: RwLock<HashMap<GrantId, Arc<GrantEntry>>>,
}

impl Cache {
    pub(crate) fn new(
        db: PgPool,
        credentials: CredentialsKey,
        address_policy: AddressPolicy,
    ) -> Self {
        Self {
            db,
            credentials,
            address_policy,
            servers: RwLock::default(),
            grants: RwLock::default(),
        }
    }

    /// The server, loading it on first use; `None` if the tenant has no such server.
    pub(crate) async fn server(
        &self,
        tenant: TenantId,
        id: ServerId,
    ) -> Result<Option<Arc<ServerEntry>>, StoreError> {
        if let Some(entry) = read(&self.servers).get(&id) {
            // A server id is unique, but never let one tenant's token reach another's server.
            return Ok((entry.tenant == tenant).then(|| Arc::clone(entry)));
        }
        self.reload_server(tenant, id).await
    }

    /// Reads the server from Postgres and swaps it in (or drops it if it is gone).
    pub(crate) async fn reload_server(
        &self,
        tenant: TenantId,
        id: ServerId,
    ) -> Result<Option<Arc<ServerEntry>>, StoreError> {
        match ServerEntry::load(
            &self.db,
            &self.credentials,
            &self.address_policy,
            tenant,
            id,
        )
        .await?
        {
            Some(entry) => {
                let entry = Arc::new(entry);
                write(&self.servers).insert(id, Arc::clone(&entry));
                Ok(Some(entry))
            }
            None => {
                self.forget_server(id);
                Ok(None)
            }
        }
    }

    /// The grant, loading it on first use; `None` if the tenant has no such grant.
    pub(crate) async fn grant(
        &self,
        tenant: TenantId,
        id: GrantId,
    ) -> Result<Option<Arc<GrantEntry>>, StoreError> {
        if let Some(entry) = read(&self.grants).get(&id) {
            return Ok((entry.tenant == tenant).then(|| Arc::clone(entry)));
        }
        self.reload_grant(tenant, id).await
    }

    pub(crate) async fn reload_grant(
        &self,
        tenant: TenantId,
        id: GrantId,
    ) -> Result<Option<Arc<GrantEntry>>, StoreError> {
        match GrantEntry::load(&self.db, &self.credentials, tenant, id).await? {
            Some(entry) => {
                let entry = Arc::new(entry);
                write(&self.grants).insert(id, Arc::clone(&entry));
                Ok(Some(entry))
            }
            None => {
                write(&self.grants).remove(&id);
                Ok(None)
            }
        }
    }

    pub(crate) fn forget_server(&self, id: ServerId) {
        write(&self.servers).remove(&id);
    }

    pub(crate) fn is_server_loaded(&self, id: ServerId) -> bool {
        read(&self.servers).contains_key(&id)
    }

    pub(crate) fn is_grant_loaded(&self, id: GrantId) -> bool {
        read(&self.grants).contains_key(&id)
    }

    /// `(tenant, id, revision)` of every loaded server.
    pub(crate) fn loaded_servers(&self) -> Vec<(TenantId, ServerId, i64)> {
        read(&self.servers)
            .values()
            .map(|entry| (entry.tenant, entry.id, entry.revision))
            .collect()
    }

    pub(crate) fn loaded_grants(&self) -> Vec<(TenantId, GrantId)> {
        read(&self.grants)
            .values()
            .map(|entry| (entry.tenant, entry.id))
            .collect()
    }

    pub(crate) fn db(&self) -> &PgPool {
        &self.db
    }

    /// The key upstream credentials are sealed with (OAuth refreshes seal new tokens).
    pub(crate) fn credentials(&self) -> &CredentialsKey {
        &self.credentials
    }
}

// A poisoned lock only means a panic elsewhere while swapping an Arc: the map is intact.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
