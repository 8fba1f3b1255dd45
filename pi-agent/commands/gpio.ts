import { execFile } from "node:child_process";

/** Switches GPIO output lines. */
export interface GpioBackend {
  set(line: number, on: boolean): Promise<void>;
}

/** Off the Pi: remembers the values, touches no hardware. */
export class SimulatedGpio implements GpioBackend {
  readonly lines = new Map<number, boolean>();
  async set(line: number, on: boolean): Promise<void> {
    this.lines.set(line, on);
  }
}

/**
 * libgpiod's command-line tools (Debian/Raspberry Pi OS package `gpiod`), through the kernel's GPIO
 * character device; the sysfs interface is deprecated. libgpiod 1.6 (Raspberry Pi OS bookworm):
 * `gpioset <chip> <line>=<value>` sets the line and exits (mode `exit`); the pin keeps its value on
 * Raspberry Pi SoCs after the line is released. The service user needs the `gpio` group (the unit
 * adds it) for /dev/gpiochip*.
 */
export class LibgpiodGpio implements GpioBackend {
  constructor(
    private readonly chip: string,
    private readonly command = "gpioset",
  ) {}

  set(line: number, on: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.command, [this.chip, `${line}=${on ? 1 : 0}`], { timeout: 5000 }, (error, _stdout, stderr) =>
        error ? reject(new Error(`${this.command} ${this.chip} ${line}=${on ? 1 : 0} failed: ${stderr.trim() || error.message}`)) : resolve(),
      );
    });
  }
}
