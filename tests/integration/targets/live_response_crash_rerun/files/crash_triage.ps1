# A triage script for the crash test: the emulator gives it a duration and the file it leaves.
Get-Process | Out-File C:\Windows\Temp\crash-triage.bin
