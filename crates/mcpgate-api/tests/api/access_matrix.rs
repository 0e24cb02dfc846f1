//! Roles are enforced on every route, in one place: the matrix walks the route table
//! the application's router is built from (`mcpgate_api::access::route_table`), each
//! route × each role, and expects exactly the declared permission's roles through and
//! every other role refused with 403 before the handler runs. A route registered
//! around the table fails the source check below, naming the route.

use std::path::{Path, PathBuf};

use mcpgate_api::access::{route_table, Access, RouteEntry};
use mcpgate_store::Role;
use mcpgate_testkit::{spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{demo, sign_up};

/// An API key with `role` in `tenant`, made by its admin key.
pub async fn key_with_role(tenant: &crate::helpers::Tenant<'_>, role: Role) -> String {
    let (status, body) = tenant
        .post(
            "/api/v1/api-keys",
            json!({"name": format!("{role} key"), "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "creating a {role} key: {body}");
    assert_eq!(body["role"], role.as_str());
    body["key_secret"].as_str().expect("the key").to_owned()
}

/// Sends a request; the status and the body, as JSON when it is JSON (`Null` otherwise).
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.api_url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    let text = response.text().await.expect("the API's body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The path with each `{param}` filled: `values` first, else a value naming nothing.
fn fill(path: &str, values: &[(&str, &str)]) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').expect("a closed {param}") + open;
        filled.push_str(&rest[..open]);
        let name = &rest[open + 1..close];
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
            .unwrap_or_else(|| match name {
                "name" => "no_such_tool".to_owned(),
                "version" => "999".to_owned(),
                _ => uuid::Uuid::now_v7().to_string(),
            });
        filled.push_str(&value);
        rest = &rest[close + 1..];
    }
    filled.push_str(rest);
    filled
}

fn method(route: &RouteEntry) -> Method {
    Method::from_bytes(route.method.as_bytes()).expect("a method")
}

fn api_routes() -> Vec<RouteEntry> {
    let routes: Vec<RouteEntry> = route_table()
        .into_iter()
        .filter(|route| !route.dashboard)
        .collect();
    assert!(
        routes
            .iter()
            .any(|route| route.method == "PUT" && route.path == "/api/v1/servers/{id}/policy"),
        "the route table lacks PUT /api/v1/servers/{{id}}/policy: {routes:?}"
    );
    routes
}

#[tokio::test]
async fn every_api_route_lets_through_exactly_the_roles_its_permission_names() {
    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    let mut keys = Vec::new();
    for role in Role::ALL {
        keys.push((role, key_with_role(&tenant, role).await));
    }
    let routes = api_routes();
    let (mut allowed, mut refused) = (0, 0);
    // Least powerful first, so nothing an admin's request changes is seen by another
    // role; path parameters name nothing, so no allowed request changes anything.
    for (role, key) in keys.iter().rev() {
        for route in &routes {
            let path = fill(&route.path, &[]);
            let body = (route.method != "GET" && route.method != "DELETE").then(|| json!({}));
            let sent_key = (route.access != Access::Public).then_some(key.as_str());
            let (status, answer) = send(&app, method(route), &path, sent_key, body).await;
            let label = format!("{} {} as {role}", route.method, route.path);
            assert!(
                !status.is_server_error(),
                "{label}: {status} {answer} (a route with no declared access fails closed with 500)"
            );
            if route.access.allows(*role) {
                allowed += 1;
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{label} is allowed by {:?} but answered {status} {answer}",
                    route.access
                );
            } else {
                refused += 1;
                assert_eq!(status, StatusCode::FORBIDDEN, "{label}: {answer}");
                assert_eq!(
                    answer["error"]["code"], "role_forbidden",
                    "{label}: {answer}"
                );
                assert_eq!(answer["error"]["details"]["role"], role.as_str(), "{label}");
            }
        }
    }
    // Each role is refused something but the admin, and allowed something.
    assert!(
        allowed > routes.len() * 2,
        "allowed {allowed} of {}",
        routes.len() * 4
    );
    assert!(
        refused > routes.len() / 2,
        "refused {refused} of {}",
        routes.len() * 4
    );
}

#[tokio::test]
async fn no_role_below_admin_reads_an_upstream_credential_or_a_grant_token() {
    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    let upstream = demo().await;
    const CREDENTIAL: &str = "upstream-secret-3b9f1d2c";
    let server = tenant
        .register(
            "k8s",
            &upstream.url(),
            json!({"X-Upstream-Key": CREDENTIAL}),
        )
        .await;
    let server_id = server["id"].as_str().expect("a server id").to_owned();
    let (status, grant) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "agent", "servers": [server_id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");
    let token = grant["token"]
        .as_str()
        .expect("the grant's token")
        .to_owned();
    let grant_id = grant["id"].as_str().expect("the grant's id").to_owned();
    let (_, tools) = tenant
        .get(&format!("/api/v1/servers/{server_id}/tools"))
        .await;
    let tool = tools["tools"][0]["name"]
        .as_str()
        .expect("a tool")
        .to_owned();

    let values = [
        ("id", server_id.as_str()),
        ("name", tool.as_str()),
        ("version", "1"),
    ];
    let mut read = 0;
    for role in [Role::PolicyManager, Role::Approver, Role::Viewer] {
        let key = key_with_role(&tenant, role).await;
        for route in api_routes().iter().filter(|route| route.method == "GET") {
            let path = if route.path.starts_with("/api/v1/grants/") {
                fill(&route.path, &[("id", grant_id.as_str())])
            } else {
                fill(&route.path, &values)
            };
            let (status, answer) = send(&app, Method::GET, &path, Some(&key), None).await;
            let text = answer.to_string();
            if status == StatusCode::OK {
                read += 1;
            }
            assert!(
                !text.contains(CREDENTIAL),
                "GET {path} as {role} shows the credential"
            );
            assert!(
                !text.contains(&token),
                "GET {path} as {role} shows the grant token"
            );
        }
        // And the routes that answer with a token refuse them.
        let (status, _) = send(
            &app,
            Method::PATCH,
            &format!("/api/v1/grants/{grant_id}"),
            Some(&key),
            Some(json!({"rotate": true})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "rotating as {role}");
    }
    assert!(read >= 3 * 8, "only {read} reads answered 200");
}

#[tokio::test]
async fn only_admins_point_the_audit_export_somewhere_or_stop_it_and_every_role_reads_its_status() {
    use mcpgate_api::access::Permission;
    let table = api_routes();
    let access_of = |method: &str| {
        table
            .iter()
            .find(|route| route.method == method && route.path == "/api/v1/audit/export")
            .map(|route| route.access)
    };
    assert_eq!(
        access_of("PUT"),
        Some(Access::Requires(Permission::ManageAuditExport))
    );
    assert_eq!(
        access_of("DELETE"),
        Some(Access::Requires(Permission::ManageAuditExport))
    );
    assert_eq!(
        access_of("GET"),
        Some(Access::Requires(Permission::ViewAudit))
    );
    assert_eq!(Permission::ManageAuditExport.roles(), vec![Role::Admin]);

    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    let receiver = "http://127.0.0.1:9/siem";
    for role in [Role::PolicyManager, Role::Approver, Role::Viewer] {
        let key = key_with_role(&tenant, role).await;
        for (method, body) in [
            (Method::PUT, Some(json!({"url": receiver}))),
            (Method::DELETE, None),
        ] {
            let (status, answer) = send(
                &app,
                method.clone(),
                "/api/v1/audit/export",
                Some(&key),
                body,
            )
            .await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} as {role}: {answer}"
            );
            assert_eq!(
                answer["error"]["details"]["permission"], "manage_audit_export",
                "{answer}"
            );
        }
        let (status, answer) =
            send(&app, Method::GET, "/api/v1/audit/export", Some(&key), None).await;
        assert!(
            status != StatusCode::FORBIDDEN && !status.is_server_error(),
            "GET as {role}: {status} {answer}"
        );
    }
    let (status, configured) = tenant
        .put("/api/v1/audit/export", json!({"url": receiver}))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the admin configures it: {configured}"
    );
    let viewer = key_with_role(&tenant, Role::Viewer).await;
    let (status, shown) = send(
        &app,
        Method::GET,
        "/api/v1/audit/export",
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    let secret = configured["secret"].as_str().expect("the signing secret");
    assert!(
        !shown.to_string().contains(secret),
        "a viewer never sees the secret"
    );
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

#[test]
fn no_route_is_registered_around_the_route_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = sources(&src);
    assert!(files.len() > 20, "found only {files:?}");
    let mut around = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src").to_owned();
        // The builder itself registers each declared route on its axum router.
        if relative == Path::new("access/routes.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file");
        for call in [".route(", ".route_service(", ".nest(", ".nest_service("] {
            for (at, _) in text.match_indices(call) {
                let after = &text[at + call.len()..];
                let path = after.split('"').nth(1).unwrap_or("?");
                // startup.rs mounts the API's table under its prefix.
                if relative == Path::new("startup.rs") && call == ".nest(" && path == "/api/v1" {
                    continue;
                }
                around.push(format!(
                    "src/{} registers `{path}` with axum's `{call}..)`: declare it through \
                     access::Routes (`.get(\"{path}\", Permission::…, handler)`, or \
                     `Access::Public`) so the guard checks its permission",
                    relative.display()
                ));
            }
        }
    }
    assert!(around.is_empty(), "{}", around.join("\n"));
}

#[test]
fn every_route_declares_its_access_once() {
    let table = route_table();
    let mut seen = std::collections::BTreeSet::new();
    for route in &table {
        assert!(
            seen.insert((route.method.clone(), route.path.clone())),
            "{} {} is declared twice",
            route.method,
            route.path
        );
    }
    let dashboard = table.iter().filter(|route| route.dashboard).count();
    assert!(dashboard > 20 && table.len() - dashboard > 25, "{table:?}");
}
