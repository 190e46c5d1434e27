// Live results: counts change as anyone votes, from any worker process.
// Without JavaScript the page shows the counts as they were when it loaded.
(function () {
  "use strict";
  var table = document.getElementById("results");
  if (!table || !window.WebSocket) { return; }
  var url = new URL(table.dataset.liveUrl, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  var delay = 500;

  function cell(choiceId) {
    return table.querySelector('.votes[data-choice-id="' + choiceId + '"]');
  }

  function redraw() {
    var cells = table.querySelectorAll(".votes");
    var total = 0;
    cells.forEach(function (c) { total += parseInt(c.textContent, 10) || 0; });
    table.querySelectorAll("tr[data-choice-id]").forEach(function (row) {
      var meter = row.querySelector("meter");
      if (meter) {
        meter.max = total || 1;
        meter.value = parseInt(row.querySelector(".votes").textContent, 10) || 0;
      }
    });
    var label = document.getElementById("total");
    if (label) { label.textContent = total + (total === 1 ? " vote" : " votes"); }
  }

  function apply(data) {
    if (data.type === "votes") {
      var c = cell(data.choice_id);
      if (!c) { window.location.reload(); return; }
      c.textContent = data.votes;
    } else if (data.type === "snapshot") {
      var rows = table.querySelectorAll("tr[data-choice-id]");
      if (rows.length !== data.choices.length) { window.location.reload(); return; }
      for (var i = 0; i < data.choices.length; i++) {
        var target = cell(data.choices[i].id);
        if (!target) { window.location.reload(); return; }
        target.textContent = data.choices[i].votes;
      }
    }
    redraw();
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { delay = 500; };
    socket.onmessage = function (message) { apply(JSON.parse(message.data)); };
    socket.onclose = function () {
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  connect();
})();
