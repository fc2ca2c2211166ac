// Commands whose implementation lands with other parts of the project. They are listed honestly as not
// available; whoever wires one moves it to its own `<Name>Command.swift`, sets `isAvailable` (or drops
// the override) and implements `run`.

