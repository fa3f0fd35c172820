// The playground in a link: its settings, readable, in the URL's hash
// (#dataset=circles&hidden=4,2&learning_rate=0.1...), and optionally the whole
// saved playground (Playground.to_json(), compressed) as state=... .

const ORDER = ["dataset", "noise", "n_samples", "train_ratio", "hidden", "activation", "learning_rate",
  "optimizer", "regularization", "regularization_rate", "batch_size", "seed"];

/** The settings as the hash's text, in the order of nn.playground.Settings. */
export function settingsHash(settings) {
  const params = new URLSearchParams();
  for (const name of ORDER) {
    if (!(name in settings)) continue;
    const value = settings[name];
    if (name === "hidden") params.set(name, value.join(","));
    else if (name === "batch_size") params.set(name, value === null ? "all" : String(value));
    else params.set(name, String(value));
  }
  return params.toString().replaceAll("%2C", ",");
}

/** A value from the link: a number when it reads as one; anything else goes to Python to judge. */
function value(text) {
  const trimmed = text.trim();
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : text;
}

/** {settings, stateText, problem} from a hash such as "#dataset=xor&hidden=4,4". */
export async function parseHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const settings = {};
  let stateText = null;
  for (const [name, text] of params) {
    if (name === "state") {
      try {
        stateText = await decodeState(text);
      } catch {
        return { settings: {}, stateText: null, problem: "The link's saved playground is damaged (it may have been cut short); starting from the default settings." };
      }
    } else if (name === "hidden") {
      settings.hidden = text.trim() === "" ? [] : text.split(",").map(value);
    } else if (name === "batch_size") {
      settings.batch_size = text === "all" || text === "" ? null : value(text);
    } else {
      settings[name] = value(text);
    }
  }
  return { settings, stateText, problem: null };
}

const toBase64Url = (bytes) => {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
};

const fromBase64Url = (text) => {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
};

async function pipe(bytes, stream) {
  const out = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/** A saved playground's JSON text, deflated and base64url-encoded for a URL. */
export async function encodeState(json) {
  return toBase64Url(await pipe(new TextEncoder().encode(json), new CompressionStream("deflate-raw")));
}

/** The JSON text back from encodeState's output. */
export async function decodeState(text) {
  return new TextDecoder().decode(await pipe(fromBase64Url(text), new DecompressionStream("deflate-raw")));
}
