use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{GrantClaims, IncomingClaims, OutgoingClaims, ServerScope};

fn server(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

#[test]
fn all_servers_is_a_star_on_the_wire() {
    assert_eq!(serde_json::to_value(ServerScope::All).unwrap(), json!("*"));
    assert_eq!(
        serde_json::from_value::<ServerScope>(json!("*")).unwrap(),
        ServerScope::All
    );
}

#[test]
fn some_servers_are_a_list_of_ids_on_the_wire() {
    let scope = ServerScope::Only(vec![server(1), server(2)]);
    let wire = serde_json::to_value(&scope).unwrap();
    assert_eq!(wire, json!([server(1).to_string(), server(2).to_string()]));
    assert_eq!(serde_json::from_value::<ServerScope>(wire).unwrap(), scope);
}

#[test]
fn other_scopes_are_refused() {
    for wire in [
        json!("all"),
        json!(""),
        json!(["not-a-uuid"]),
        json!(1),
        json!({}),
    ] {
        assert!(
            serde_json::from_value::<ServerScope>(wire.clone()).is_err(),
            "{wire}"
        );
    }
}

#[test]
fn a_scope_allows_exactly_its_servers() {
    assert!(ServerScope::All.allows(server(7)));
    let only = ServerScope::Only(vec![server(1), server(2)]);
    assert!(only.allows(server(2)));
    assert!(!only.allows(server(3)));
    assert!(!ServerScope::Only(Vec::new()).allows(server(1)));
}

#[test]
fn new_claims_have_whole_seconds_and_a_fresh_token_id() {
    let issued = Utc.timestamp_opt(1_700_000_000, 999_000_000).unwrap();
    let claims = GrantClaims::new(
        server(1),
        server(2),
        ServerScope::All,
        3,
        issued,
        Some(issued),
    );
    assert_eq!(claims.issued_at.timestamp_subsec_nanos(), 0);
    assert_eq!(claims.issued_at.timestamp(), 1_700_000_000);
    assert_eq!(claims.expires_at, Some(claims.issued_at));
    assert!(claims.token_id.len() >= 22);
    let again = GrantClaims::new(server(1), server(2), ServerScope::All, 3, issued, None);
    assert_ne!(claims.token_id, again.token_id);
}

#[test]
fn claims_without_expiry_have_no_exp_on_the_wire() {
    let claims = GrantClaims::new(server(1), server(2), ServerScope::All, 1, Utc::now(), None);
    let wire = serde_json::to_value(OutgoingClaims::new(&claims)).unwrap();
    assert!(wire.get("exp").is_none());
    assert_eq!(wire["iss"], "mcpgate");
    assert_eq!(wire["aud"], "mcpgate-proxy");
    assert_eq!(wire["sub"], server(1).to_string());
    assert_eq!(wire["tid"], server(2).to_string());
    assert_eq!(wire["srv"], "*");
    assert_eq!(wire["ver"], 1);
}

#[test]
fn claims_round_trip_through_the_wire_form() {
    let issued = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let expires = Utc.timestamp_opt(1_700_003_600, 0).unwrap();
    let scope = ServerScope::Only(vec![server(5)]);
    let claims = GrantClaims::new(server(1), server(2), scope, 9, issued, Some(expires));
    let wire = serde_json::to_string(&OutgoingClaims::new(&claims)).unwrap();
    let incoming: IncomingClaims = serde_json::from_str(&wire).unwrap();
    assert_eq!(incoming.into_claims().unwrap(), claims);
}

#[test]
fn times_outside_the_calendar_are_refused() {
    let wire = json!({"sub": server(1), "tid": server(2), "srv": "*", "ver": 1,
        "iat": 0, "exp": i64::MAX, "jti": "x"});
    let incoming: IncomingClaims = serde_json::from_value(wire).unwrap();
    assert!(incoming.into_claims().is_none());
    assert!(DateTime::from_timestamp(i64::MAX, 0).is_none());
}

#[test]
fn an_access_token_names_the_proxy_and_its_resource_in_aud_and_round_trips() {
    let issued = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let resource = "https://proxy.example.com/mcp/0193";
    let claims = GrantClaims::new(
        server(1),
        server(2),
        ServerScope::Only(vec![server(5)]),
        1,
        issued,
        Some(issued),
    )
    .for_resource(resource);
    let wire = serde_json::to_value(OutgoingClaims::new(&claims)).unwrap();
    assert_eq!(wire["aud"], json!(["mcpgate-proxy", resource]));
    let incoming: IncomingClaims = serde_json::from_value(wire).unwrap();
    let read = incoming.into_claims().unwrap();
    assert_eq!(read.resource.as_deref(), Some(resource));
    assert_eq!(read, claims);
}
