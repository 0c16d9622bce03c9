/**
 * A start that cannot go on because of a setting: shown as one line naming the setting, with no
 * stack (the operator needs the setting, not our call chain).
 */
export class StartError extends Error {
  constructor(setting: string, problem: string) {
    super(`Cannot start: ${setting} ${problem}`);
  }
}
