// Preloaded (`node --import`) into @modelcontextprotocol/server-everything, which calls
// `app.listen(PORT)` with no host and so binds every interface; it has no setting for the
// host. Tests must keep all traffic on loopback, so this pins listeners without a host to
// 127.0.0.1 and prints the bound address, which lets tests pass PORT=0 and learn the port
// without racing another process for a "free" one.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== "string") args.splice(1, 0, "127.0.0.1");
  } else if (args[0] && typeof args[0] === "object" && args[0].path === undefined && !args[0].host) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  this.once("listening", () => {
    const address = this.address();
    if (address && typeof address === "object") {
      process.stderr.write(`MCPGATE_E2E_LISTENING ${address.address}:${address.port}\n`);
    }
  });
  return listen.apply(this, args);
};
