<#
  secops.defender collect_triage.ps1: gather volatile triage data into C:\Windows\Temp\secops-triage\.
  Uploaded to the live response library by the secops.defender.collect_forensics role.
#>
param([switch]$Full)
$out = 'C:\Windows\Temp\secops-triage'
New-Item -ItemType Directory -Force -Path $out | Out-Null
Get-Process | Select-Object Id, ProcessName, Path, StartTime | Export-Csv "$out\processes.csv" -NoTypeInformation
Get-NetTCPConnection | Select-Object LocalAddress, LocalPort, RemoteAddress, RemotePort, State, OwningProcess |
  Export-Csv "$out\connections.csv" -NoTypeInformation
Get-CimInstance Win32_StartupCommand | Select-Object Name, Command, Location, User |
  Export-Csv "$out\autoruns.csv" -NoTypeInformation
if ($Full) {
  Get-ScheduledTask | Select-Object TaskName, TaskPath, State | Export-Csv "$out\tasks.csv" -NoTypeInformation
}
Compress-Archive -Path "$out\*" -DestinationPath 'C:\Windows\Temp\secops-triage.zip' -Force
Write-Output "triage written to C:\Windows\Temp\secops-triage.zip"
