// Weir UI: live updates from the server's watch stream, filters without reloads, and actions
// sent with the page's token. Everything works without this script too, only less live.
(() => {
  'use strict';
  const token = document.querySelector('meta[name="weir-token"]').content;
  const live = document.getElementById('live');
  const conn = document.getElementById('conn');
  const flash = document.getElementById('flash');
  const object = document.body.dataset.object;

  // refresh replaces the live part of the page with the server's current rendering, keeping
  // open tree branches open. Calls during a refresh collapse into one more refresh.
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    const active = document.activeElement;
    if (active && live.contains(active) && active.tagName === 'INPUT') {
      active.addEventListener('blur', () => refresh(), { once: true });
      return;
    }
    busy = true;
    try {
      const closed = [...live.querySelectorAll('details[id]:not([open])')].map((d) => d.id);
      const res = await fetch(location.href, { headers: { 'X-Weir-Partial': '1' } });
      const html = await res.text();
      live.innerHTML = html;
      for (const id of closed) {
        const d = document.getElementById(id);
        if (d) d.open = false;
      }
      document.dispatchEvent(new CustomEvent('weir:refreshed'));
    } catch (e) {
      setConn(false);
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function setConn(ok) {
    conn.textContent = ok ? 'live' : 'reconnecting…';
    conn.className = 'conn ' + (ok ? 'ok' : 'down');
  }

  // After a lost connection, changes may have been missed: refresh once reconnected.
  let lost = false;
  const events = new EventSource('/watch');
  events.addEventListener('hello', () => {
    setConn(true);
    if (lost) { lost = false; refresh(); }
  });
  events.addEventListener('error', () => { lost = true; setConn(false); });
  events.addEventListener('change', (e) => {
    setConn(true);
    const keys = JSON.parse(e.data);
    // An object's page also shows the state of the objects it depends on and that depend on it.
    const deps = document.getElementById('deps');
    const related = deps ? deps.dataset.related.split(' ').filter(Boolean) : [];
    if (!object || keys.includes('*') || keys.includes(object) || related.some((k) => keys.includes(k))) refresh();
  });

  // The managed objects of an inventory are not Weir objects, so no watch reports their
  // health: an object's page with an inventory refreshes every 15 seconds while it is shown.
  if (object) {
    setInterval(() => {
      if (document.visibilityState === 'visible' && document.getElementById('tree')) refresh();
    }, 15000);
  }

  // Filters apply as the user types or picks, and keep the URL shareable; "/" jumps to the
  // text filter.
  const filters = document.getElementById('filters');
  if (filters) {
    document.addEventListener('keydown', (e) => {
      const tag = document.activeElement && document.activeElement.tagName;
      if (e.key === '/' && tag !== 'INPUT' && tag !== 'SELECT' && tag !== 'TEXTAREA') {
        e.preventDefault();
        filters.querySelector('input[name="q"]').focus();
      }
    });
    let timer;
    const apply = () => {
      const params = new URLSearchParams();
      for (const [k, v] of new FormData(filters)) if (v) params.set(k, v);
      const url = '/objects' + (params.toString() ? '?' + params : '');
      history.replaceState(null, '', url);
      refresh();
    };
    filters.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(apply, 200); });
    filters.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  }

  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (form.classList.contains('invfilter')) {
      e.preventDefault();
      const url = new URL(location.href);
      const inv = new FormData(form).get('inv');
      if (inv) url.searchParams.set('inv', inv); else url.searchParams.delete('inv');
      history.replaceState(null, '', url);
      document.activeElement.blur();
      refresh();
      return;
    }
    if (!form.classList.contains('action')) return;
    e.preventDefault();
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const res = await fetch(form.action, { method: 'POST', headers: { 'X-Weir-Token': token } });
      showFlash(await res.text(), res.ok);
    } catch (err) {
      showFlash('The UI server did not answer: ' + err, false);
    } finally {
      refresh();
    }
  });

  function showFlash(text, ok) {
    flash.textContent = text;
    flash.className = ok ? 'ok' : 'error';
  }
})();
