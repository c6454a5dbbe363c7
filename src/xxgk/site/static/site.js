/* xxgk site: drag-and-drop upload on the unit's page, the live register on the office's. No dependencies. */
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
            say(reply.held ? "新文件未通过校验，请确认是否以它为准……" : reply.valid ? "已通过，正在显示结果……" : "已上传，正在显示校验结果……");
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

    function apply() {
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var okState = !filter || row.getAttribute("data-state") === filter;
        var okText = !query || row.cells[1].textContent.indexOf(query) >= 0 || row.cells[2].textContent.indexOf(query) >= 0;
        row.hidden = !(okState && okText);
      });
    }
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        filter = b.getAttribute("data-state");
        buttons.forEach(function (x) { x.classList.toggle("active", x === b); });
        apply();
      });
    });
    if (search) { search.addEventListener("input", function () { query = search.value.trim(); apply(); }); }

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
        if (changed) { row.classList.remove("flash"); void row.offsetWidth; row.classList.add("flash"); }
      });
      var all = 0;
      Object.keys(reply.counts).forEach(function (k) {
        all += reply.counts[k];
        var b = document.querySelector('[data-count="' + k + '"]');
        if (b) { b.textContent = reply.counts[k]; }
      });
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

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.upload");
    if (form) { setupUpload(form); }
    var table = document.querySelector("table.register");
    if (table) { setupRegister(table); }
  });
})();
