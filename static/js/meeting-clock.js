// The chair's meeting clock: keeps "Time now" and "minutes over this slot"
// current while the page stays open. The page shows both as they were when
// it was drawn, so without JavaScript the chair still sees the time.
const clock = document.querySelector("[data-mdt-clock]");

function twoDigits(number) {
  return String(number).padStart(2, "0");
}

function tick() {
  const now = new Date();
  clock.querySelector("[data-mdt-clock-now]").textContent =
    `${twoDigits(now.getHours())}:${twoDigits(now.getMinutes())}`;
  const status = clock.querySelector("[data-mdt-clock-status]");
  const endsAt = clock.dataset.slotEnds;
  if (!status || !endsAt) return;
  const ends = new Date(endsAt);
  const over = Math.floor((now - ends) / 60000);
  const until = endsAt.slice(11, 16);
  status.textContent = "";
  if (over > 0) {
    const tag = document.createElement("strong");
    tag.className = "nhsuk-tag nhsuk-tag--orange";
    tag.textContent = `${over} minute${over === 1 ? "" : "s"} over`;
    status.append(tag, ` this slot (until ${until})`);
  } else {
    status.textContent = `This slot runs until ${until}`;
  }
}

if (clock) {
  setInterval(tick, 15000);
}
