// The wakeport console's live updates: the admin API's own server-sent event streams, read with
// EventSource. No framework and nothing from elsewhere; every text goes in as textContent, and
// the HTML fragments swapped in are rendered (and escaped) by the server.
(function () {
  'use strict';

  // A browser opens at most six connections to a host over HTTP/1.1, and each stream holds one:
  // close them as soon as the page goes (a form sent, a link followed), not when the next page is in.
  var streams = [];
  function stream(url) {
    var source = new EventSource(url);
    streams.push(source);
    return source;
  }
  function closeStreams() {
    streams.forEach(function (s) { s.close(); });
  }
  document.addEventListener('submit', closeStreams);
  window.addEventListener('pagehide', closeStreams);
  window.addEventListener('beforeunload', closeStreams);

  var status = document.getElementById('live-status');
  function setStatus(text, ok) {
    if (status) {
      status.textContent = text;
      status.className = 'live ' + (ok ? 'on' : 'off');
    }
  }

  function cell(row, text) {
    var td = document.createElement('td');
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  // The tenant page's event table: newest first.
  function addEvent(ev) {
    var body = document.querySelector('#events tbody');
    if (!body) {
      return;
    }
    var tr = document.createElement('tr');
    var time = document.createElement('time');
    time.textContent = ev.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    cell(tr, '').appendChild(time);
    cell(tr, ev.route || '–');
    var change = cell(tr, ev.from + ' → ');
    var badge = document.createElement('span');
    badge.className = 'badge st-' + ev.to;
    badge.textContent = ev.to;
    change.appendChild(badge);
    cell(tr, ev.pid == null ? '–' : String(ev.pid)).className = 'num';
    cell(tr, ev.reason);
    tr.className = 'fresh';
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > 300) {
      body.deleteRow(body.rows.length - 1);
    }
  }

  var live = document.getElementById('live');
  if (live) {
    var refreshUrl = live.getAttribute('data-refresh');
    var pending = null;
    var running = false;
    var again = false;

    // Someone typing a weight: leave the table as it is until they are done.
    var busy = function () {
      var a = document.activeElement;
      return a && a.tagName === 'INPUT' && live.contains(a);
    };

    var tenantState = function () {
      var badge = document.getElementById('tenant-state');
      if (!badge) {
        return;
      }
      var states = {};
      live.querySelectorAll('td.state .badge').forEach(function (b) { states[b.textContent] = true; });
      var names = Object.keys(states);
      var state = names.length === 1 ? names[0] : names.length === 0 ? 'STOPPED' : 'MIXED';
      badge.textContent = state;
      badge.className = 'badge st-' + state;
    };

    var refresh = function () {
      pending = null;
      if (running) {
        again = true;
        return;
      }
      running = true;
      fetch(refreshUrl, { credentials: 'same-origin', redirect: 'manual' })
        .then(function (r) {
          if (!r.ok) {
            throw new Error('HTTP ' + r.status);
          }
          return r.text();
        })
        .then(function (html) {
          if (!busy()) {
            live.innerHTML = html;
            tenantState();
          }
        })
        .catch(function () { setStatus('offline', false); })
        .then(function () {
          running = false;
          if (again) {
            again = false;
            schedule(100);
          }
        });
    };

    var schedule = function (ms) {
      if (!pending) {
        pending = setTimeout(refresh, ms);
      }
    };

    // At once, from the event itself; the next refresh brings the rest (uptime, cold start...).
    var apply = function (ev) {
      var key = ev.tenant + '/' + (ev.route || '');
      live.querySelectorAll('tr[data-instance]').forEach(function (row) {
        if (row.getAttribute('data-instance') !== key) {
          return;
        }
        var badge = row.querySelector('td.state .badge');
        if (badge) {
          badge.textContent = ev.to;
          badge.className = 'badge st-' + ev.to;
        }
        var pid = row.querySelector('td.pid');
        if (pid) {
          pid.textContent = ev.pid == null ? '–' : String(ev.pid);
        }
      });
      tenantState();
    };

    var events = stream(live.getAttribute('data-events'));
    events.addEventListener('open', function () { setStatus('live', true); });
    events.addEventListener('error', function () { setStatus('reconnecting…', false); });
    events.addEventListener('lifecycle', function (e) {
      var ev = JSON.parse(e.data);
      apply(ev);
      addEvent(ev);
      schedule(250);
    });
    events.addEventListener('dropped', function () { schedule(0); });
    // Uptimes, in-flight counts and resource use change without events.
    setInterval(function () { schedule(0); }, 5000);
  }

  var log = document.getElementById('log');
  if (log) {
    var logStatus = document.getElementById('log-status');
    var broken = false;
    var tail = stream(log.getAttribute('data-follow'));
    tail.addEventListener('open', function () {
      if (broken) {
        log.textContent = ''; // a reconnect sends the last lines again
        broken = false;
      }
      if (logStatus) {
        logStatus.textContent = 'following';
      }
    });
    tail.addEventListener('error', function () {
      broken = true;
      if (logStatus) {
        logStatus.textContent = 'reconnecting…';
      }
    });
    tail.addEventListener('log', function (e) {
      var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
      var line = document.createElement('span');
      line.className = 'line';
      line.textContent = e.data + '\n';
      log.appendChild(line);
      while (log.childNodes.length > 2000) {
        log.removeChild(log.firstChild);
      }
      if (atEnd) {
        log.scrollTop = log.scrollHeight;
      }
    });
  }
})();
