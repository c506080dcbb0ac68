// The part of autocannon's programmatic API LoadRunner.ts uses (the package ships no types).
declare module "autocannon" {
  interface Request {
    method?: string
    path?: string
    body?: string
    headers?: Record<string, string>
    setupRequest?: (req: Request, context: Record<string, unknown>) => Request
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    requests?: ReadonlyArray<Request>
  }
  function autocannon(opts: Options, cb: (err: unknown, result: unknown) => void): unknown
  export default autocannon
}
