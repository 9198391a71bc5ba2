Get-CimInstance Win32_Service -Filter "StartMode='Auto'" | Select-Object Name, State, PathName | Format-Table -AutoSize
