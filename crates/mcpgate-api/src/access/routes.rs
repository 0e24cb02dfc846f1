//! The route builder: each route is registered with its access, and the builder
//! keeps the table of them beside the axum router it builds.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;

use super::{guard, Access, RouteEntry};
use crate::state::AppState;

/// Where a route is served, which decides how its caller is authenticated and how
/// refusals look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// `/api/v1`: `Authorization: Bearer <api key>`, JSON errors.
    Api,
    /// The dashboard: the session cookie, HTML error pages and a redirect to log in.
    Dashboard,
}

/// One registered route.
#[derive(Debug, Clone)]
pub(crate) struct RouteRule {
    pub(crate) method: Method,
    /// The full path, with the surface's prefix.
    pub(crate) path: String,
    pub(crate) surface: Surface,
    pub(crate) access: Access,
}

/// An axum router whose every route declares its access.
#[derive(Debug)]
pub(crate) struct Routes {
    surface: Surface,
    prefix: &'static str,
    router: Router<AppState>,
    rules: Vec<Arc<RouteRule>>,
}

impl Routes {
    /// Routes of the REST API, nested under `/api/v1`.
    pub(crate) fn api() -> Self {
        Self::new(Surface::Api, "/api/v1")
    }

    /// Routes of the dashboard, at the root.
    pub(crate) fn dashboard() -> Self {
        Self::new(Surface::Dashboard, "")
    }

    fn new(surface: Surface, prefix: &'static str) -> Self {
        Self {
            surface,
            prefix,
            router: Router::new(),
            rules: Vec::new(),
        }
    }

    pub(crate) fn get<H, T>(self, path: &str, access: impl Into<Access>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, access.into(), handler)
    }

    pub(crate) fn post<H, T>(self, path: &str, access: impl Into<Access>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, access.into(), handler)
    }

    pub(crate) fn put<H, T>(self, path: &str, access: impl Into<Access>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::PUT, path, access.into(), handler)
    }

    pub(crate) fn patch<H, T>(self, path: &str, access: impl Into<Access>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::PATCH, path, access.into(), handler)
    }

    pub(crate) fn delete<H, T>(self, path: &str, access: impl Into<Access>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::DELETE, path, access.into(), handler)
    }

    fn add<H, T>(mut self, method: Method, path: &str, access: Access, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| panic!("{method} is not a method axum routes"));
        let rule = Arc::new(RouteRule {
            method,
            path: format!("{}{path}", self.prefix),
            surface: self.surface,
            access,
        });
        self.rules.push(rule.clone());
        let guarded = move |State(state): State<AppState>, request: Request| {
            guard::run(state, rule.clone(), request, handler.clone())
        };
        self.router = self.router.route(path, on(filter, guarded));
        self
    }

    /// Adds another module's routes (of the same surface).
    pub(crate) fn merge(mut self, other: Routes) -> Self {
        assert_eq!(
            self.surface, other.surface,
            "merging routes of two surfaces"
        );
        self.router = self.router.merge(other.router);
        self.rules.extend(other.rules);
        self
    }

    /// Answers requests no route matches (the REST API's JSON 404).
    pub(crate) fn fallback<H, T>(mut self, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self.router.fallback(handler);
        self
    }

    /// The table of routes with their access.
    pub(crate) fn entries(&self) -> Vec<RouteEntry> {
        self.rules
            .iter()
            .map(|rule| RouteEntry {
                method: rule.method.to_string(),
                path: rule.path.clone(),
                dashboard: rule.surface == Surface::Dashboard,
                access: rule.access,
            })
            .collect()
    }

    /// The axum router to serve (nested under the prefix by the caller).
    pub(crate) fn into_router(self) -> Router<AppState> {
        self.router
    }
}
