export { Listener, type ListenerOptions, type StepResult, type Checkpoint } from "./listener";
export { SKIP_REASONS, TABLES, EVENT_TABLES, type EventMessage } from "./events";
