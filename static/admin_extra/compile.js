/* The compile screen's behaviour on top of htmx (static/vendor/htmx) and SortableJS
 * (static/vendor/sortable): drag and keyboard reordering, character counters, the
 * save state of every field, the conflict choices, the story picker and event order.
 * Loaded as a file (no inline script), so a strict Content-Security-Policy holds.
 * Without this file every action still works as a plain form.
 */
(function () {
  "use strict";

  function root() { return document.getElementById("compile"); }

  // ------------------------------------------------------------ ordering
  // Reorders go one at a time, in the order the editor made them, each based on the
  // order version the previous one returned: two quick drags cannot land out of order,
  // and another editor's reorder in between is refused (409), not overwritten.
  // #compile[data-order-pending] counts those not yet answered.
  var orderQueue = Promise.resolve();

  function pending(change) {
    var page = root();
    var count = parseInt(page.dataset.orderPending || "0", 10) + change;
    page.dataset.orderPending = String(count);
  }

  function postOrder(list) {
    var ids = Array.prototype.map.call(list.querySelectorAll(":scope > .card"), function (card) {
      return card.dataset.item;
    });
    pending(1);
    orderQueue = orderQueue.then(function () {
      return sendOrder(list.dataset.section, ids);
    }).then(function () { pending(-1); }, function () { pending(-1); });
    return orderQueue;
  }

  function sendOrder(section, ids) {
    var page = root();
    var body = new URLSearchParams({
      section: section,
      items: ids.join(","),
      order_version: page.dataset.orderVersion || "",
    });
    return fetch(page.dataset.reorderUrl, {
      method: "POST",
      body: body,
      headers: { "X-CSRFToken": page.dataset.csrf, "HX-Request": "true" },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status === 204) {
        page.dataset.orderVersion = response.headers.get("X-Order-Version") || page.dataset.orderVersion;
        say("Order saved.", false);
      } else {
        return response.text().then(function (text) {
          var advice = response.status === 409 ? "" : " Reload to see the saved order.";
          say("The new order was not saved: " + stripTags(text) + advice, true);
        });
      }
    }).catch(function () {
      say("The new order was not saved: the server cannot be reached.", true);
    });
  }

  function stripTags(html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    return box.textContent.trim();
  }

  function say(text, isError) {
    var line = document.getElementById("compile-messages");
    if (!line) return;
    line.innerHTML = "";
    var p = document.createElement("p");
    p.className = isError ? "state-error" : "state-saved";
    p.textContent = text;
    line.appendChild(p);
  }

  function placeCard(card, list) {
    card.dataset.section = list.dataset.section;
    var select = card.querySelector("select.move-to");
    if (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        option.hidden = option.value === list.dataset.section;
      });
      select.value = "";
    }
  }

  function initSortable(list) {
    if (!window.Sortable || list.dataset.sortable) return;
    list.dataset.sortable = "1";
    window.Sortable.create(list, {
      group: list.dataset.group,
      handle: ".drag-handle",
      animation: 150,
      onEnd: function (event) {
        placeCard(event.item, event.to);
        postOrder(event.to);
      },
    });
  }

  function moveBy(card, step) {
    var list = card.parentElement;
    if (step < 0 && card.previousElementSibling) {
      list.insertBefore(card, card.previousElementSibling);
    } else if (step > 0 && card.nextElementSibling) {
      list.insertBefore(card.nextElementSibling, card);
    } else {
      return;
    }
    postOrder(list);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-step]");
    if (button && button.closest("#compile")) {
      event.preventDefault();
      moveBy(button.closest(".card"), parseInt(button.dataset.step, 10));
      button.focus();
      return;
    }
    var choice = event.target.closest("button[data-conflict]");
    if (choice) {
      event.preventDefault();
      resolveConflict(choice);
      return;
    }
    if (event.target.id === "insert-story") {
      event.preventDefault();
      insertStoryLink();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    var card = event.target.closest && event.target.closest("#compile .card");
    if (!card) return;
    event.preventDefault();
    moveBy(card, event.key === "ArrowUp" ? -1 : 1);
    event.target.focus();
  });

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select.move-to");
    if (!select || !select.value) return;
    var card = select.closest(".card");
    var list = document.getElementById("list-" + select.value);
    if (!list) return;
    list.appendChild(card);
    placeCard(card, list);
    postOrder(list);
  });

  // ------------------------------------------------------------ counters
  function updateCounter(field) {
    var counter = document.querySelector('.counter[data-for="' + field.id + '"]');
    if (!counter) return;
    var max = parseInt(field.dataset.max, 10);
    var length = field.value.length;
    counter.textContent = length + " / " + max;
    counter.classList.toggle("over", length > max);
    counter.title = length > max ? "Over the limit by " + (length - max) + ": it will not be saved until shortened." : "";
  }

  document.addEventListener("input", function (event) {
    if (event.target.classList && event.target.classList.contains("counted")) {
      updateCounter(event.target);
    }
    var form = event.target.form;
    if (form && form.matches("#compile .card-form, #issue-form")) {
      var state = form.querySelector(".save-state");
      if (state && !state.querySelector(".conflict")) state.innerHTML = '<span class="state-pending">Not saved yet…</span>';
    }
  });

  // ------------------------------------------------------------ save state
  function stateOf(element) {
    var form = element.closest && element.closest("form");
    return form ? form.querySelector(".save-state") : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches(".card-form, #issue-form")) {
      var state = stateOf(form);
      if (state && !state.querySelector(".conflict")) state.innerHTML = '<span class="state-pending">Saving…</span>';
    }
  });

  function failed(event, why) {
    var state = stateOf(event.detail.elt);
    var text = "Not saved: " + why + " Your text is kept here; it is saved with your next change.";
    if (state) {
      state.innerHTML = "";
      var span = document.createElement("span");
      span.className = "state-error";
      span.setAttribute("role", "alert");
      span.textContent = text;
      state.appendChild(span);
    } else {
      say(text, true);
    }
  }

  document.addEventListener("htmx:sendError", function (event) {
    failed(event, "the server cannot be reached.");
  });
  document.addEventListener("htmx:responseError", function (event) {
    failed(event, "the server answered " + event.detail.xhr.status + ".");
  });

  // ------------------------------------------------------------ conflicts
  function resolveConflict(button) {
    var box = button.closest(".conflict");
    var form = box.closest("form");
    var version = form.querySelector("input.version");
    version.value = box.dataset.version;
    var how = button.dataset.conflict;
    var first = null;
    box.querySelectorAll(".conflict-field").forEach(function (part) {
      var field = form.elements[part.dataset.field];
      if (!field) return;
      var theirs = part.querySelector(".theirs").textContent;
      var mine = part.querySelector(".mine").textContent;
      if (how === "theirs") field.value = theirs;
      if (how === "merge") {
        field.value = field.tagName === "TEXTAREA" ? mine + "\n\n" + theirs : mine + " / " + theirs;
        first = first || field;
      }
      if (field.classList.contains("counted")) updateCounter(field);
    });
    var state = form.querySelector(".save-state");
    if (how === "mine") {
      state.innerHTML = '<span class="state-pending">Saving yours…</span>';
      window.htmx.trigger(form, "submit");
    } else if (how === "theirs") {
      state.innerHTML = '<span class="state-saved">You have their text now.</span>';
    } else {
      state.innerHTML = '<span class="state-pending">Both texts are in the field: edit them into one; it saves as you type.</span>';
      if (first) first.focus();
    }
  }

  // ------------------------------------------------------------ letter
  function insertStoryLink() {
    var picker = document.getElementById("story-picker");
    var letter = document.getElementById("id_letter");
    if (!picker || !letter || !picker.value) return;
    var option = picker.options[picker.selectedIndex];
    var title = (option.dataset.title || option.textContent).replace(/[[\]]/g, "");
    var link = "[" + title + "](article:" + picker.value + ")";
    var start = letter.selectionStart, end = letter.selectionEnd;
    letter.value = letter.value.slice(0, start) + link + letter.value.slice(end);
    letter.focus();
    letter.selectionStart = letter.selectionEnd = start + link.length;
    letter.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function storyOption(value, title) {
    var option = document.createElement("option");
    option.value = value;
    option.textContent = title;
    option.dataset.title = title;
    return option;
  }

  function addStoryChoice(card) {
    var group = document.querySelector("#story-picker optgroup.issue-choices");
    if (!group || !card.dataset.article) return;
    if (group.querySelector('option[value="' + card.dataset.article + '"]')) return;
    var headline = card.querySelector("input.headline");
    group.appendChild(storyOption(card.dataset.article, headline ? headline.value : card.dataset.article));
  }

  // The picker's pool choices follow the pool pane: what the editor has filtered for.
  function poolChoices() {
    var group = document.querySelector("#story-picker optgroup.pool-choices");
    var issueGroup = document.querySelector("#story-picker optgroup.issue-choices");
    if (!group) return;
    var chosen = group.querySelector("option:checked");
    var keep = chosen ? chosen.value : null;
    group.innerHTML = "";
    document.querySelectorAll("#pool-results .pool-story[data-article]").forEach(function (story) {
      var value = story.dataset.article;
      if (issueGroup && issueGroup.querySelector('option[value="' + value + '"]')) return;
      var option = storyOption(value, story.dataset.title || value);
      if (value === keep) option.selected = true;
      group.appendChild(option);
    });
  }

  // ------------------------------------------------------------ events
  function orderEvents() {
    var list = document.getElementById("list-events");
    if (!list) return;
    var cards = Array.prototype.slice.call(list.querySelectorAll(":scope > .card"));
    cards.sort(function (a, b) {
      return (a.dataset.starts || "9999").localeCompare(b.dataset.starts || "9999");
    });
    cards.forEach(function (card) { list.appendChild(card); });
  }

  // ------------------------------------------------------------ start
  function start(scope) {
    (scope || document).querySelectorAll("#compile .card-list").forEach(initSortable);
    (scope || document).querySelectorAll("#compile .counted").forEach(updateCounter);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    start(document);
    document.querySelectorAll("#compile .card[data-article]").forEach(addStoryChoice);
    poolChoices();
    orderEvents();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else {
    start(document);
  }
})();
