// The inbox page's shared state (one object, read and written by the inbox modules).
export const state = {
  me: null, // GET /api/v1/auth/me
  presence: null, // {status, load, max_chats, …}
  conversations: [], // mine (GET /api/v1/agent/inbox)
  offers: [], // offers to me, each with a local deadline
  waiting: [], // per queue
  directory: null, // agents, queues, wrap-up codes
  selected: null, // {id, conversation, messageIds: Set}
  unread: new Map(), // conversation id -> count
  previews: new Map(), // conversation id -> last message text seen live
  socket: null,
  refresh: null, // () => re-read the inbox (set by inbox.js)
  requested: null, // conversation id from /?conversation=… (a case page's link)
};

export const isMine = (conv) =>
  !!conv && !!state.me && (conv.agent === state.me.login || (conv.participants || []).includes(state.me.login));

export const isOpenForReply = (conv) => isMine(conv) && ["assigned", "wrap_up"].includes(conv.state);

export const offerFor = (cid) => state.offers.find((o) => o.conversation_id === cid);

export function showTab(name) {
  for (const tab of document.querySelectorAll(".tabs .tab")) {
    tab.classList.toggle("active", tab.dataset.tab === name);
  }
  for (const body of document.querySelectorAll(".tab-body")) body.hidden = body.id !== name;
}
