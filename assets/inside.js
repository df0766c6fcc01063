/* Inside the math (dashboard/panels/inspector.py): the cards' numbers.

   The server sends every table as compact plain data (markup_inside.table_spec). Dash
   components for ~400 cells would cost the page ~0.3 s of rendering per update (and halve
   the live updates per second), so the numbers are written into each card's number block
   (".values", which Dash renders empty and never touches again) as plain DOM: text only,
   no HTML is parsed. When the cards are not in the page yet (just sent, or the tab is
   opening), it tries again on the next frames. */
(function () {
  "use strict";

  // numbers travel with an ASCII "-" (JSON sends "\u2212" as 6 bytes); draw a true minus
  var MINUS = /-(?=[\d.∞])/g;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function number(tag, cls, text) {
    return el(tag, cls, String(text).replace(MINUS, "\u2212"));
  }

  function table(spec) {
    var t = el("table", "heat");
    if (spec.ch) {
      var head = el("tr");
      if (spec.rh) { head.appendChild(el("th", "", spec.rh0 || "")); }
      spec.ch.forEach(function (c, j) { head.appendChild(el("th", j === spec.t ? "t" : "", c)); });
      t.appendChild(el("thead")).appendChild(head);
    }
    var body = t.appendChild(el("tbody"));
    spec.v.forEach(function (row, i) {
      var tr = body.appendChild(el("tr"));
      if (spec.rh) { tr.appendChild(el("th", i === spec.sel ? "sel" : "", spec.rh[i])); }
      row.forEach(function (text, j) {
        var cls = spec.c[i][j];  // "lab": a class name, shown as it is
        tr.appendChild(cls === "lab" ? el("td", cls, text) : number("td", cls, text));
      });
    });
    return t;
  }

  function block(spec) {
    var out = [];
    if (spec.k === "s") {
      out.push(number("div", spec.c ? "scalar " + spec.c : "scalar", spec.s));
    } else if (spec.k === "l") {
      var d = el("div", "scalar", spec.s);
      d.appendChild(el("span", "muted", spec.m));
      out.push(d);
    } else {
      out.push(table(spec));
      if (spec.n) { out.push(el("div", "caption", spec.n)); }
    }
    if (spec.w) { out.push(el("div", "worked", spec.w)); }
    return out;
  }

  function fill(data, tries) {
    var missing = 0;
    Object.keys(data).forEach(function (name) {
      var card = document.querySelector('.inside-body [data-q="' + CSS.escape(name) + '"]');
      var slot = card && card.querySelector(".values");
      if (!slot) { missing += 1; return; }
      slot.replaceChildren.apply(slot, block(data[name]));
    });
    if (missing && tries > 0) {
      requestAnimationFrame(function () { fill(data, tries - 1); });
    }
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    inside: {
      // Input: the tables (a new update), the open tab (the cards mount again); the
      // output is a dummy store: the work is the side effect on the cards
      tables: function (data, tab, thisTab) {
        if (data && tab === thisTab) { fill(data, 60); }
        return window.dash_clientside.no_update;
      }
    }
  });
})();
