use criterion::{black_box, criterion_group, criterion_main, Criterion};

const TOOLS_CALL: &[u8] = br#"{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{"name":"k8s_get_pods","arguments":{"context":"prod-eu-west-1","namespace":"payments","label_selector":"app=checkout,tier=backend","limit":50,"include_events":true},"_meta":{"progressToken":"c1a7f0e2-5b8d-4e0b-9f53-0b2d9f8e1a44"}}}"#;

fn parse(c: &mut Criterion) {
    c.bench_function("parse tools/call", |b| {
        b.iter(|| mcpgate_mcp::parse(black_box(TOOLS_CALL)).unwrap())
    });
    c.bench_function("parse + tool_call arguments", |b| {
        b.iter(|| {
            let incoming = mcpgate_mcp::parse(black_box(TOOLS_CALL)).unwrap();
            incoming.messages()[0]
                .tool_call()
                .unwrap()
                .unwrap()
                .arguments
        })
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
