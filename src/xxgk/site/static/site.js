/* xxgk site: drag-and-drop upload on the unit's page, the live register on the office's (its
   filters kept for the tab), copy and print buttons. No dependencies. */
(function () {
  "use strict";

  function setupUpload(form) {
    var drop = form.querySelector(".drop");
    var input = form.querySelector("input[type=file]");
    var text = form.querySelector(".drop-text");
    var status = form.querySelector(".upload-status");
    var button = form.querySelector("button[type=submit]");
    var max = parseInt(form.getAttribute("data-max"), 10) || 0;

    function say(message, bad) {
      status.textContent = message;
      status.className = "upload-status" + (bad ? " bad" : "");
    }
    function send(file) {
      if (!file) { say("请先选择文件。", true); return; }
      if (max && file.size > max) { say("文件超过大小上限，未上传。请检查是否选错了文件。", true); return; }
      var data = new FormData(form);
      data.set("file", file, file.name);
      button.disabled = true;
      say("正在上传并校验“" + file.name + "”……");
      fetch(form.action, { method: "POST", body: data, headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().catch(function () { return { ok: false, error: "服务器返回了无法识别的结果（" + r.status + "）。" }; }); })
        .then(function (reply) {
          if (reply.ok) {
            say(reply.valid ? "已通过，正在显示结果……" : "已上传，正在显示校验结果……");
            window.location.assign(reply.redirect.replace("#", "?t=" + Date.now() + "#"));
          } else {
            button.disabled = false;
            say(reply.error || "上传失败，请重试。", true);
          }
        })
        .catch(function () { button.disabled = false; say("网络连接中断，上传未完成，请重试。", true); });
    }
    input.addEventListener("change", function () {
      if (input.files.length) { text.textContent = "已选择：" + input.files[0].name; }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      var files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) { text.textContent = "已选择：" + files[0].name; send(files[0]); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      send(input.files[0]);
    });
  }

  function setupRegister(table) {
    var version = table.getAttribute("data-version");
    var filter = "";
    var query = "";
    var search = document.querySelector(".search");
    var buttons = document.querySelectorAll(".filter");

    var KEPT = "xxgk.register.filters";  // kept for this tab: back from a unit, the same view

    function apply() {
      var group = null, shown = 0;
      function close() { if (group) { group.hidden = shown === 0; } }
      table.querySelectorAll("tbody tr").forEach(function (row) {
        if (!row.hasAttribute("data-id")) { close(); group = row; shown = 0; return; }
        var okState = !filter || row.getAttribute("data-state") === filter;
        var okText = !query || row.cells[1].textContent.indexOf(query) >= 0 || row.cells[2].textContent.indexOf(query) >= 0;
        row.hidden = !(okState && okText);
        if (!row.hidden) { shown += 1; }
      });
      close();
      try { window.sessionStorage.setItem(KEPT, JSON.stringify({ filter: filter, query: query })); } catch (e) { /* private mode */ }
    }
    function choose(state) {
      filter = state;
      buttons.forEach(function (x) { x.classList.toggle("active", x.getAttribute("data-state") === state); });
    }
    buttons.forEach(function (b) {
      b.addEventListener("click", function () { choose(b.getAttribute("data-state")); apply(); });
    });
    if (search) { search.addEventListener("input", function () { query = search.value.trim(); apply(); }); }
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(KEPT) || "null");
      if (kept) {
        choose(kept.filter || "");
        query = kept.query || "";
        if (search) { search.value = query; }
        apply();
      }
    } catch (e) { /* nothing kept */ }

    function cell(row, name, value) {
      var td = row.querySelector("td." + name);
      if (td.textContent !== String(value)) { td.textContent = value; return true; }
      return false;
    }
    function update(reply) {
      if (reply.unchanged) { return; }
      version = String(reply.version);
      reply.lines.forEach(function (line) {
        var row = table.querySelector('tr[data-id="' + line.id + '"]');
        if (!row) { return; }
        var changed = row.getAttribute("data-state") !== line.state;
        row.setAttribute("data-state", line.state);
        var badge = row.querySelector(".badge");
        badge.className = "badge " + line.state;
        badge.textContent = line.label;
        changed = cell(row, "at", line.at) || changed;
        cell(row, "errors", line.at ? line.errors : "");
        cell(row, "warnings", line.at ? line.warnings : "");
        cell(row, "file", line.file);
        if (line.filler !== undefined) {
          cell(row, "filler", line.filler);
          cell(row, "phone", line.phone);
          cell(row, "due", line.due);
          row.querySelector("td.due").classList.toggle("late", !!line.late);
        }
        if (changed) { row.classList.remove("flash"); void row.offsetWidth; row.classList.add("flash"); }
      });
      var all = 0;
      Object.keys(reply.counts).forEach(function (k) {
        all += reply.counts[k];
        var b = document.querySelector('[data-count="' + k + '"]');
        if (b) { b.textContent = reply.counts[k]; }
      });
      var progress = document.getElementById("progress");
      if (progress && reply.progress) { progress.textContent = reply.progress; }
      apply();
    }
    function poll() {
      fetch("/office/register.json?since=" + encodeURIComponent(version), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { unchanged: true }; })
        .then(update)
        .catch(function () { /* the server is restarting: try again at the next tick */ })
        .then(function () { window.setTimeout(poll, 2000); });
    }
    window.setTimeout(poll, 2000);
  }

  function copyText(text, done) {
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  function setupCopy(button) {
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) { return; }
      var said = button.parentNode.querySelector(".copied");
      copyText(source.value, function (ok) {
        if (said) { said.textContent = ok ? "已复制" : "复制失败，请手动选中后复制"; }
        if (!ok) { source.focus(); source.select(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.copy[data-copy]").forEach(setupCopy);
    document.querySelectorAll("button.print").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    var form = document.querySelector("form.upload");
    if (form) { setupUpload(form); }
    var table = document.querySelector("table.register");
    if (table) { setupRegister(table); }
  });
})();
