//! Modern answers that take more than one exchange: multi round-trip requests, tasks,
//! and `subscriptions/listen`.

use std::time::Duration;

use mcpgate_demo::{spawn, DemoSettings, ListChanged};
use mcpgate_mcp::sse::{SseEvent, SseParser};
use serde_json::{json, Value};

use super::{text_of, Request};

const TASKS: &str = "io.modelcontextprotocol/tasks";

fn interactive() -> DemoSettings {
    DemoSettings {
        interactive_tools: true,
        task_duration: Duration::from_millis(100),
        ..Default::default()
    }
}

fn tool_names(list: &Value) -> Vec<String> {
    list["result"]["tools"]
        .as_array()
        .expect("a tools array")
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn interactive_tools_are_served_only_when_asked_for() {
    let plain = spawn(DemoSettings::default()).await;
    let (_, list) = Request::new(1, "tools/list", json!({}), json!({}))
        .answer(&plain.url())
        .await;
    assert_eq!(tool_names(&list).len(), 57);
    assert!(!tool_names(&list).contains(&"demo_confirm".to_owned()));

    let demo = spawn(interactive()).await;
    let (_, list) = Request::new(1, "tools/list", json!({}), json!({}))
        .answer(&demo.url())
        .await;
    let names = tool_names(&list);
    assert_eq!(names.len(), 59);
    assert_eq!(names[57..], ["demo_confirm", "demo_long_job"]);
    let (_, discover) = Request::new(2, "server/discover", json!({}), json!({}))
        .answer(&demo.url())
        .await;
    assert_eq!(
        discover["result"]["capabilities"]["extensions"][TASKS],
        json!({})
    );
}

#[tokio::test]
async fn demo_confirm_asks_for_input_then_completes_on_the_retry() {
    let demo = spawn(interactive()).await;
    let url = demo.url();
    let caps = json!({"elicitation": {}});
    let params = json!({"name": "demo_confirm", "arguments": {"action": "deploy"}});

    let (status, first) = Request::new(1, "tools/call", params.clone(), caps.clone())
        .answer(&url)
        .await;
    assert_eq!(status, 200);
    let first = &first["result"];
    assert_eq!(first["resultType"], "input_required");
    assert_eq!(
        first["inputRequests"]["confirm"]["method"],
        "elicitation/create"
    );
    assert_eq!(
        first["inputRequests"]["confirm"]["params"]["requestedSchema"]["required"],
        json!(["confirmed"])
    );
    assert!(
        first.get("ttlMs").is_none(),
        "input_required is never cacheable"
    );
    let state = first["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();

    let mut retry = params.clone();
    retry["inputResponses"] =
        json!({"confirm": {"action": "accept", "content": {"confirmed": true}}});
    retry["requestState"] = json!(state);
    let (status, done) = Request::new(2, "tools/call", retry.clone(), caps.clone())
        .answer(&url)
        .await;
    assert_eq!(status, 200);
    assert_eq!(done["id"], 2);
    assert_eq!(done["result"]["resultType"], "complete");
    assert_eq!(
        text_of(&done),
        r#"demo_confirm confirmed: {"action":"deploy"}"#
    );

    let mut declined = retry.clone();
    declined["inputResponses"]["confirm"] = json!({"action": "decline"});
    let (_, answer) = Request::new(3, "tools/call", declined, caps.clone())
        .answer(&url)
        .await;
    assert_eq!(text_of(&answer), "demo_confirm declined: decline");

    let mut tampered = retry.clone();
    tampered["requestState"] = json!(format!("{state}x"));
    let (status, answer) = Request::new(4, "tools/call", tampered, caps.clone())
        .answer(&url)
        .await;
    assert_eq!(
        (status, answer["error"]["code"].clone()),
        (400, json!(-32602))
    );

    let (status, answer) = Request::new(5, "tools/call", params, json!({}))
        .answer(&url)
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], -32021);
    assert_eq!(
        answer["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
}

async fn task_status(url: &str, id: &str) -> Value {
    let (status, answer) = Request::new(9, "tasks/get", json!({"taskId": id}), json!({}))
        .answer(url)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["resultType"], "complete");
    answer["result"].clone()
}

async fn eventually_status(url: &str, id: &str, wanted: &str) -> Value {
    for _ in 0..100 {
        let task = task_status(url, id).await;
        if task["status"] == wanted {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {id} never became {wanted}");
}

#[tokio::test]
async fn demo_long_job_is_a_task_for_clients_that_declare_the_extension() {
    let demo = spawn(interactive()).await;
    let url = demo.url();
    let caps = json!({"extensions": {TASKS: {}}});
    let job = json!({"name": "demo_long_job", "arguments": {"job": "a"}});

    let (status, created) = Request::new(1, "tools/call", job.clone(), caps.clone())
        .answer(&url)
        .await;
    assert_eq!(status, 200);
    let created = &created["result"];
    assert_eq!(created["resultType"], "task");
    assert_eq!(created["status"], "working");
    assert!(created["createdAt"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let id = created["taskId"].as_str().expect("a taskId").to_owned();

    assert_eq!(task_status(&url, &id).await["status"], "working");
    let done = eventually_status(&url, &id, "completed").await;
    assert_eq!(
        done["result"]["content"][0]["text"],
        r#"demo_long_job done: {"job":"a"}"#
    );
    let (_, ack) = Request::new(2, "tasks/cancel", json!({"taskId": id}), json!({}))
        .answer(&url)
        .await;
    assert_eq!(ack["result"]["resultType"], "complete");
    assert_eq!(
        task_status(&url, &id).await["status"],
        "completed",
        "terminal stays"
    );

    let (_, second) = Request::new(3, "tools/call", job.clone(), caps)
        .answer(&url)
        .await;
    let second = second["result"]["taskId"].as_str().unwrap().to_owned();
    let (status, _) = Request::new(
        4,
        "tasks/update",
        json!({"taskId": second, "inputResponses": {}}),
        json!({}),
    )
    .answer(&url)
    .await;
    assert_eq!(status, 200);
    Request::new(5, "tasks/cancel", json!({"taskId": second}), json!({}))
        .answer(&url)
        .await;
    let cancelled = task_status(&url, &second).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled.get("result").is_none());

    let (status, unknown) = Request::new(6, "tasks/get", json!({"taskId": "nope"}), json!({}))
        .answer(&url)
        .await;
    assert_eq!(
        (status, unknown["error"]["code"].clone()),
        (400, json!(-32602))
    );
    let (status, _) = Request::new(7, "tasks/get", json!({"taskId": id}), json!({}))
        .set_header("mcp-name", "other")
        .answer(&url)
        .await;
    assert_eq!(status, 400, "Mcp-Name mirrors the taskId");

    // Without the extension the same call waits and completes on its POST.
    let (_, plain) = Request::new(8, "tools/call", job, json!({}))
        .answer(&url)
        .await;
    assert_eq!(plain["result"]["resultType"], "complete");
    assert_eq!(text_of(&plain), r#"demo_long_job done: {"job":"a"}"#);
}

/// Reads a listen stream frame by frame.
struct Listener {
    response: reqwest::Response,
    parser: SseParser,
    keep_alives: usize,
}

impl Listener {
    async fn next_message(&mut self) -> Value {
        let read = async {
            loop {
                while let Some(event) = self.parser.next_event() {
                    if SseEvent::is_dispatched(&event) {
                        return serde_json::from_str(event.data().unwrap()).unwrap();
                    }
                    self.keep_alives += 1;
                }
                let chunk = self.response.chunk().await.unwrap().expect("stream open");
                self.parser.push(&chunk).unwrap();
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("a frame within 5 s")
    }
}

#[tokio::test]
async fn listen_acknowledges_then_delivers_only_opted_in_list_changes() {
    let demo = spawn(DemoSettings {
        keep_alive_interval: Duration::from_millis(30),
        ..Default::default()
    })
    .await;
    let response = Request::new(
        41,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true, "promptsListChanged": false}}),
        json!({}),
    )
    .send(&demo.url())
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut listener = Listener {
        response,
        parser: SseParser::new(),
        keep_alives: 0,
    };
    let ack = listener.next_message().await;
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        41
    );
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true})
    );
    assert_eq!(demo.listeners(), 1);

    assert_eq!(demo.notify_list_changed(ListChanged::Prompts), 1);
    tokio::time::sleep(Duration::from_millis(70)).await;
    assert_eq!(demo.notify_list_changed(ListChanged::Tools), 1);
    let change = listener.next_message().await;
    assert_eq!(
        change["method"], "notifications/tools/list_changed",
        "prompts were not opted into"
    );
    assert_eq!(
        change["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        41
    );
    assert!(listener.keep_alives > 0, "keep-alives between frames");

    drop(listener);
    for _ in 0..100 {
        if demo.listeners() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the listener is still counted after the client left");
}
