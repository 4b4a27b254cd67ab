// The page's own /invite, as Slack's built-in command: "/invite @name [@name …] [#channel]" adds
// people, or an app's bot user by its name ("@helpdesk"), to the open channel (or #channel) as
// the chosen user, through POST /_emulator/conversations/invite (part of the emulator's page).
"use strict";

function isInvite(line) {
  return /^\/invite(\s|$)/i.test(line.trim());
}

function comparable(name) {
  // "Test App", "test_app" and "test-app" all name the same bot.
  return (name || "").toLowerCase().replace(/[\s_.-]+/g, "");
}

function findInvitee(ws, ref) {
  // "@name", "name", a user id, or a pasted mention such as "<@U0ACME0002>".
  const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(ref);
  const wanted = mention ? mention[1] : ref.replace(/^@/, "");
  const users = ws.users.filter((u) => !u.deleted && u.id !== "USLACKBOT");
  return users.find((u) => u.id === wanted)
    || users.find((u) => u.name.toLowerCase() === wanted.toLowerCase())
    || users.find((u) => [u.name, u.profile.display_name, u.real_name]
      .some((n) => comparable(n) && comparable(n) === comparable(wanted)));
}

function inviteTarget(ws, ref) {
  if (!ref) return ws.channels.find((c) => c.id === S.channel);
  const name = ref.replace(/^#/, "").toLowerCase();
  const found = ws.channels.find(
    (c) => (c.kind === "public" || c.kind === "private") && c.name === name,
  );
  if (!found) throw new Error(`/invite: there is no channel ${ref} in ${ws.name}`);
  return found;
}

function names(users) {
  return users.map((u) => "@" + u.name).join(", ");
}

async function runInvite(line) {
  const ws = workspace();
  const refs = line.trim().split(/\s+/).slice(1);
  const who = refs.filter((r) => !r.startsWith("#"));
  if (!ws || !who.length) throw new Error("Usage: /invite @name [@name …] [#channel]");
  const channel = inviteTarget(ws, refs.find((r) => r.startsWith("#")));
  if (!channel || (channel.kind !== "public" && channel.kind !== "private")) {
    throw new Error("/invite works in channels, not in direct messages");
  }
  const users = who.map((ref) => {
    const user = findInvitee(ws, ref);
    if (!user) throw new Error(`/invite: no one called ${ref} in ${ws.name}`);
    return user;
  });
  const answer = await api("POST", "/_emulator/conversations/invite", {
    team_id: S.team, channel_id: channel.id, user_id: S.user, users: users.map((u) => u.id),
  });
  const added = users.filter((u) => answer.joined.includes(u.id));
  const already = users.filter((u) => !answer.joined.includes(u.id));
  const said = [];
  if (added.length) said.push(`Added ${names(added)} to #${channel.name}.`);
  if (already.length) {
    said.push(`${names(already)} ${already.length === 1 ? "is" : "are"} already in #${channel.name}.`);
  }
  showStatus(said.join(" "), true);
}
