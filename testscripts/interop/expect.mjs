// Shared by the client drivers: run fn and describe the error it throws
// with describe (each client's errors carry their details differently),
// or null when it throws none.
export async function expectError(fn, describe) {
  try {
    await fn();
  } catch (e) {
    return describe(e);
  }
  return null;
}
