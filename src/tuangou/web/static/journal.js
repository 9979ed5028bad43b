// The verifiable record, checked in the browser (RFC 9162 §2.1.3.2 and §2.1.4.2): SHA-256
// by SubtleCrypto; Ed25519 signatures by WebCrypto where the browser has it (Chrome 137+,
// Firefox 129+, Safari 17+), else the page says to check the signature with `tuangou verify`.
(function () {
  "use strict";
  var subtle = window.crypto && window.crypto.subtle;
  var enc = new TextEncoder();

  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function unhex(s) {
    var out = new Uint8Array(s.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
    return out;
  }
  function join(prefix, a, b) {
    var out = new Uint8Array(1 + a.length + (b ? b.length : 0));
    out[0] = prefix; out.set(a, 1); if (b) out.set(b, 1 + a.length);
    return out;
  }
  async function sha(bytes) { return new Uint8Array(await subtle.digest("SHA-256", bytes)); }
  async function leafHash(data) { return sha(join(0, enc.encode(data))); }
  async function node(l, r) { return sha(join(1, l, r)); }
  function eq(a, b) { return hex(a) === hex(b); }

  async function verifyInclusion(index, size, leaf, proof, root) {
    if (index < 0 || index >= size) return false;
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < proof.length; i++) {
      var p = unhex(proof[i]);
      if (sn === 0) return false;
      if ((fn & 1) || fn === sn) {
        r = await node(p, r);
        if (!(fn & 1)) { while (fn && !(fn & 1)) { fn >>= 1; sn >>= 1; } }
      } else {
        r = await node(r, p);
      }
      fn >>= 1; sn >>= 1;
    }
    return sn === 0 && eq(r, root);
  }

  async function verifyConsistency(m, n, oldRoot, newRoot, proof) {
    if (m === n) return proof.length === 0 && eq(oldRoot, newRoot);
    if (!(0 < m && m < n)) return false;
    var path = proof.map(unhex);
    if ((m & (m - 1)) === 0) path.unshift(oldRoot);
    if (!path.length) return false;
    var fn = m - 1, sn = n - 1;
    while (fn & 1) { fn >>= 1; sn >>= 1; }
    var fr = path[0], sr = path[0];
    for (var i = 1; i < path.length; i++) {
      var c = path[i];
      if (sn === 0) return false;
      if ((fn & 1) || fn === sn) {
        fr = await node(c, fr); sr = await node(c, sr);
        if (!(fn & 1)) { while (fn && !(fn & 1)) { fn >>= 1; sn >>= 1; } }
      } else {
        sr = await node(sr, c);
      }
      fn >>= 1; sn >>= 1;
    }
    return sn === 0 && eq(fr, oldRoot) && eq(sr, newRoot);
  }

  function checkpointText(cp) {
    return "tuangou journal v1\n" + cp.origin + "\n" + cp.size + "\n" + cp.root + "\n" + cp.time + "\n";
  }
  // true / false, or null when the browser cannot check Ed25519
  async function verifySignature(keyHex, cp) {
    var key;
    try {
      key = await subtle.importKey("raw", unhex(keyHex), { name: "Ed25519" }, false, ["verify"]);
    } catch (e) { return null; }
    try {
      return await subtle.verify({ name: "Ed25519" }, key, unhex(cp.signature), enc.encode(checkpointText(cp)));
    } catch (e) { return false; }
  }
  function show(id) { var el = document.getElementById(id); if (el) el.hidden = false; return el; }
  function say(id) { var el = document.getElementById(id); return el ? el.textContent : id; }

  // 我的账本: one entry at a time
  var mine = document.getElementById("journal");
  if (mine) {
    var cp = JSON.parse(mine.getAttribute("data-checkpoint") || "null");
    mine.parentNode.addEventListener("click", async function (ev) {
      var button = ev.target.closest ? ev.target.closest(".js-verify") : null;
      if (!button || !cp) return;
      var li = button.closest(".journal-entry"), out = li.querySelector(".verdict");
      if (!subtle) { out.textContent = say("journal-msg-nocrypto"); return; }
      var leaf = await leafHash(li.getAttribute("data-entry"));
      var ok = hex(leaf) === li.getAttribute("data-leaf") && await verifyInclusion(
        Number(li.getAttribute("data-index")), cp.size, leaf,
        (li.getAttribute("data-proof") || "").split(",").filter(Boolean), unhex(cp.root));
      var signed = ok ? await verifySignature(mine.getAttribute("data-key"), cp) : false;
      out.textContent = !ok || signed === false ? say("journal-msg-bad")
        : signed === null ? say("journal-msg-nosig") : say("journal-msg-ok");
      out.className = "small verdict " + (ok && signed !== false ? "ok" : "bad");
    });
  }

  // /journal/verify: a whole bundle
  var box = document.getElementById("bundle-check");
  if (box) {
    document.getElementById("bundle-file").addEventListener("change", async function (ev) {
      var list = document.getElementById("bundle-result");
      list.textContent = "";
      function problem(text) { var li = document.createElement("li"); li.textContent = text; li.className = "bad"; list.appendChild(li); }
      if (!subtle) { show("journal-msg-nocrypto"); return; }
      var file = ev.target.files[0];
      if (!file) return;
      var b;
      try { b = JSON.parse(await file.text()); } catch (e) { problem("not a proof file"); return; }
      var key = document.getElementById("pinned").value.trim();
      var top = b.checkpoint, nosig = false, bad = 0;
      if (!top) { problem("no checkpoint"); return; }
      var cps = b.previous ? [top, b.previous] : [top];
      for (var i = 0; i < cps.length; i++) {
        var s = await verifySignature(key, cps[i]);
        if (s === null) nosig = true;
        else if (!s) { bad++; problem("checkpoint " + cps[i].size + ": not signed by the key you keep"); }
      }
      if (b.previous && !await verifyConsistency(b.previous.size, top.size, unhex(b.previous.root), unhex(top.root), b.consistency || [])) {
        bad++; problem("checkpoints " + b.previous.size + " and " + top.size + " are not consistent: history was rewritten");
      }
      var escrow = 0;
      for (var j = 0; j < (b.entries || []).length; j++) {
        var e = b.entries[j], data = JSON.parse(e.data);
        var leaf = await leafHash(e.data);
        if (e.proof !== null && (hex(leaf) !== e.leaf_hash || !await verifyInclusion(e.leaf_index, top.size, leaf, e.proof, unhex(top.root)))) {
          bad++; problem("entry " + e.leaf_index + " (" + e.ref + "): not in checkpoint " + top.size);
        }
        if (data.source === "ledger" && data.buyer === b.member_id) {
          (data.legs || []).forEach(function (leg) { if (leg[0] === "escrow") escrow += leg[1]; });
        }
      }
      if (escrow !== b.escrow_balance) { bad++; problem("the escrow balance stated (" + b.escrow_balance + ") is not the sum of the entries (" + escrow + ")"); }
      if (!bad) show(nosig ? "journal-msg-nosig" : "journal-msg-ok");
    });
  }
})();
