import json, subprocess, sys, os, select, time
# usage: list_tools.py OUT.json -- cmd args...   (env via ENV_JSON)
out = sys.argv[1]; cmd = sys.argv[3:]
env = dict(os.environ); env.update(json.loads(os.environ.get("ENV_JSON","{}")))
p = subprocess.Popen(["unshare","-n"]+cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(out+".stderr","w"), env=env, cwd="/tmp/evalrun/cwd")
buf=b""
def send(o): p.stdin.write((json.dumps(o)+"\n").encode()); p.stdin.flush()
def recv(id, timeout=60):
    global buf
    end=time.time()+timeout
    while time.time()<end:
        while b"\n" in buf:
            line,buf=buf.split(b"\n",1)
            try: m=json.loads(line)
            except Exception: continue
            if m.get("id")==id: return m
        r,_,_=select.select([p.stdout],[],[],1)
        if r:
            d=os.read(p.stdout.fileno(),1<<20)
            if not d: raise SystemExit("server exited")
            buf+=d
    raise SystemExit("timeout")
send({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"eval-collector","version":"0"}}})
init=recv(1)
send({"jsonrpc":"2.0","method":"notifications/initialized"})
tools=[]; cursor=None; i=2
while True:
    send({"jsonrpc":"2.0","id":i,"method":"tools/list","params":({"cursor":cursor} if cursor else {})})
    r=recv(i); i+=1
    if "error" in r: raise SystemExit(str(r))
    tools+=r["result"]["tools"]; cursor=r["result"].get("nextCursor")
    if not cursor: break
json.dump({"serverInfo":init["result"].get("serverInfo"),"protocolVersion":init["result"].get("protocolVersion"),"tools":tools},open(out,"w"),indent=1)
print(out, len(tools), init["result"].get("serverInfo"))
p.kill()
