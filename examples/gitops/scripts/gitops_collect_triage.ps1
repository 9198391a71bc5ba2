param([switch]$Full)
$out = "C:\Windows\Temp\gitops_triage.txt"
Get-Process | Sort-Object CPU -Descending | Select-Object -First 50 | Out-File $out
Get-Service | Where-Object Status -eq Running | Out-File $out -Append
if ($Full) {
    Get-CimInstance Win32_StartupCommand | Out-File $out -Append
}
