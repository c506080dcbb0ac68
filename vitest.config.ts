import { defineConfig } from "vitest/config"

// Two projects: `unit` runs on test layers with no servers; `integration` talks to the real
// Postgres, Redis and NATS on this machine (each test file isolates itself: own database,
// key prefix, stream and queue names).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{shared,services,migrations,scripts,stacks,observability}/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000
        }
      },
      {
        test: {
          name: "integration",
          include: ["{shared,services,migrations,scripts,stacks,observability}/**/*.itest.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: "forks"
        }
      }
    ]
  }
})
