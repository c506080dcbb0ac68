/**
 * What a new password must be beyond its length (10–200, in the schema). Rejected, with a reason that
 * never repeats the password:
 * - one of the passwords every cracking list tries first (a short list of the most breached ones, and
 *   the common words they are built from with digits or symbols stuck on the end);
 * - a run along the keyboard or the alphabet (`qwertyuiop`, `abcdefghij`, `1234567890`) or one
 *   character repeated (`aaaaaaaaaa`: fewer than 5 different characters);
 * - the part of the email before the @;
 * - less than 45 bits by the character-class estimate (length × log2 of the classes' alphabet), so ten
 *   digits alone are too weak while ten lowercase letters (47 bits) pass.
 * No online breach lookup: the platform sends no password-derived data anywhere.
 */
const BREACHED = new Set([
  "password",
  "passw0rd",
  "qwerty",
  "letmein",
  "welcome",
  "admin",
  "administrator",
  "iloveyou",
  "dragon",
  "monkey",
  "football",
  "baseball",
  "sunshine",
  "princess",
  "master",
  "superman",
  "trustno1",
  "abc123",
  "changeme",
  "secret",
  "login",
  "starwars",
  "whatever",
  "freedom",
  "shadow",
  "michael",
  "brandme",
  "qwertyuiop",
  "asdfghjkl",
  "zxcvbnm",
  "1q2w3e4r5t",
  "1qaz2wsx",
  "q1w2e3r4t5",
  "zaq12wsx"
])

const RUNS = [
  "abcdefghijklmnopqrstuvwxyz",
  "qwertyuiopasdfghjklzxcvbnm",
  "01234567890",
  "1234567890",
  "azertyuiopqsdfghjklmwxcvbn"
]

export const MIN_PASSWORD_BITS = 45
const MIN_DISTINCT = 5

/** length × log2(size of the alphabet its character classes span) */
export const estimatedBits = (password: string): number => {
  let pool = 0
  if (/[a-z]/.test(password)) pool += 26
  if (/[A-Z]/.test(password)) pool += 26
  if (/[0-9]/.test(password)) pool += 10
  if (/[^A-Za-z0-9]/.test(password)) pool += 33
  return pool === 0 ? 0 : [...password].length * Math.log2(pool)
}

const isRun = (p: string): boolean => {
  for (const run of RUNS) {
    const doubled = run + run
    if (doubled.includes(p) || [...doubled].reverse().join("").includes(p)) return true
  }
  return false
}

/** Why the password is too weak, or undefined when it is acceptable. */
export const passwordProblem = (password: string, email: string): string | undefined => {
  const lower = password.toLowerCase()
  const stem = lower.replace(/[^a-z]+$/, "").replace(/^[^a-z]+/, "")
  if (BREACHED.has(lower) || BREACHED.has(stem)) return "is one of the most common passwords"
  if (new Set(password).size < MIN_DISTINCT) return `must use at least ${MIN_DISTINCT} different characters`
  if (isRun(lower)) return "is a run of keyboard or alphabet characters"
  const local = email.trim().toLowerCase().split("@")[0] ?? ""
  if (local.length >= 4 && lower.includes(local)) return "must not contain your email address"
  if (estimatedBits(password) < MIN_PASSWORD_BITS) {
    return "is too guessable: make it longer or mix letters, digits and symbols"
  }
  return undefined
}
