//! Who may do what, decided in one place.
//!
//! Every route of the API and the dashboard is registered through [`Routes`] with
//! the [`Access`] it requires. The route's guard authenticates the caller (API key
//! or session cookie), refuses a role without the permission (403) before the
//! handler runs, gives the handler its `Caller`, and writes the admin audit trail
//! for every successful change. A handler cannot get a `Caller` (and so a tenant)
//! on a route registered any other way: the extractor fails closed.
//!
//! [`route_table`] lists every route with its access, from the same routers the
//! application serves; the access-matrix test walks it.

mod guard;
mod permission;
mod routes;
pub(crate) mod trail;

use mcpgate_store::Role;

pub use permission::Permission;
pub(crate) use routes::Routes;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-up, login, documentation, assets, invitation links.
    Public,
    /// Any signed-in member, whatever the role (logging out, switching tenants,
    /// one's own sessions).
    SignedIn,
    /// A member or API key whose role holds the permission.
    Requires(Permission),
}

impl From<Permission> for Access {
    fn from(permission: Permission) -> Self {
        Access::Requires(permission)
    }
}

impl Access {
    /// Whether `role` may use a route with this access (a signed-in caller).
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Requires(permission) => permission.allows(role),
        }
    }
}

/// One route of the application and what it requires.
#[derive(Debug, Clone)]
pub struct RouteEntry {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path as registered, with `{param}` placeholders (`/api/v1/servers/{id}`).
    pub path: String,
    /// `true` for a dashboard page or form, `false` for the REST API.
    pub dashboard: bool,
    pub access: Access,
}

/// Every route the application serves with its access, API and dashboard.
pub fn route_table() -> Vec<RouteEntry> {
    let mut table = crate::routes::router().entries();
    table.extend(crate::dashboard::router().entries());
    table
}
